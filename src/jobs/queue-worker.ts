import type { PgBoss } from 'pg-boss';
import type { Job, JobQueueLogger } from './job-queue.js';

export interface QueueWorkerOptions {
  queue: string;
  concurrency: number;
  /** Fetches at least this often (jobs that come due, notifications missed while LISTEN reconnected). */
  pollMs: number;
  /** The queue's heartbeat: claimed jobs are touched every half of it so the supervisor keeps them ours. */
  heartbeatSeconds?: number;
}

/**
 * One fetch loop for one queue: it claims as many jobs as it has free slots (one `fetch` with that batch size),
 * runs each on its own and settles each on its own (`complete`, or `fail` so pg-boss retries it), and fetches again
 * when woken (a NOTIFY for the queue, a slot freed while jobs were left waiting, the poll timer). pg-boss's own
 * workers would each poll, and every NOTIFY would wake every one of them: at a concurrency of 50, one job sent cost
 * ~41 transactions.
 */
export class QueueWorker<T> {
  /** The jobs in hand, each with its run (settled when the job is). */
  private readonly active = new Map<string, { job: Job<T>; run: Promise<void> }>();
  private fetching = false;
  /** A wake-up arrived during a fetch, or a fetch came back full: there may be more to claim. */
  private more = false;
  private stopped = false;
  private readonly pollTimer: NodeJS.Timeout;
  private readonly heartbeatTimer: NodeJS.Timeout | undefined;
  private lastErrorLog = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly boss: PgBoss,
    private readonly logger: JobQueueLogger,
    private readonly options: QueueWorkerOptions,
    private readonly handler: (job: Job<T>) => Promise<void>,
  ) {
    this.pollTimer = setInterval(() => this.wake(), options.pollMs);
    this.pollTimer.unref();
    if (options.heartbeatSeconds) {
      this.heartbeatTimer = setInterval(() => void this.heartbeat(), (options.heartbeatSeconds * 1000) / 2);
      this.heartbeatTimer.unref();
    }
  }

  /** Claims what there is room for (now, or right after the fetch in progress). */
  wake(): void {
    if (this.stopped) return;
    if (this.fetching) {
      this.more = true;
      return;
    }
    void this.fill();
  }

  private async fill(): Promise<void> {
    this.fetching = true;
    try {
      for (;;) {
        this.more = false;
        const free = this.options.concurrency - this.active.size;
        if (free <= 0 || this.stopped) {
          // Full: whoever frees a slot fetches again.
          this.more ||= free <= 0;
          break;
        }
        const jobs = (await this.boss.fetch<T>(this.options.queue, { batchSize: free })) as Job<T>[];
        for (const job of jobs) this.start(job);
        if (jobs.length === free) this.more = true;
        if (!this.more) break;
      }
    } catch (error) {
      this.logError(error, 'job fetch failed; retrying at the next poll');
    } finally {
      this.fetching = false;
    }
  }

  private start(job: Job<T>): void {
    const run = this.run(job).finally(() => {
      this.active.delete(job.id);
      if (this.more) this.wake();
    });
    this.active.set(job.id, { job, run });
  }

  private async run(job: Job<T>): Promise<void> {
    const { queue } = this.options;
    let failure: Error | undefined;
    try {
      await this.handler(job);
    } catch (error) {
      failure = error as Error;
      this.logger.warn({ err: { message: failure.message }, queue, jobId: job.id }, 'job failed; will retry');
    }
    try {
      // Fenced by the attempt fetched: a job the supervisor already took back is left alone.
      if (failure) await this.boss.fail(queue, job, { message: failure.message });
      else await this.boss.complete(queue, job);
    } catch (error) {
      this.logError(error, 'job could not be settled; it is retried after its heartbeat or expiry');
    }
  }

  private async heartbeat(): Promise<void> {
    if (this.active.size === 0) return;
    try {
      await this.boss.touch(this.options.queue, this.jobsInHand());
    } catch (error) {
      this.logError(error, 'job heartbeat failed');
    }
  }

  /**
   * Stops claiming, waits up to `timeoutMs` for the jobs in hand, then fails what is left so another replica retries
   * it at once instead of after its heartbeat.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.active.values()].map((entry) => entry.run)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    const left = this.jobsInHand();
    if (left.length > 0)
      await this.boss
        .fail(this.options.queue, left, { message: 'the worker stopped before the job finished' })
        .catch((error: unknown) => this.logError(error, 'jobs left at shutdown could not be failed'));
  }

  private jobsInHand(): Job<T>[] {
    return [...this.active.values()].map((entry) => entry.job);
  }

  private logError(error: unknown, msg: string): void {
    // A database outage would otherwise log on every poll and every job.
    if (Date.now() - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = Date.now();
    this.logger.error({ err: { message: (error as Error).message }, queue: this.options.queue }, msg);
  }
}
