import { sql } from 'drizzle-orm';
import { fromDrizzle, fromPglite, PgBoss } from 'pg-boss';
import type { Database, Executor } from '../db/database.js';

export interface JobQueueLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface QueueDefinition {
  name: string;
  /** Attempts after the first failure. */
  retryLimit: number;
  retryDelaySeconds: number;
  /** A job whose worker stops sending heartbeats for this long is failed and retried (min 10). */
  heartbeatSeconds?: number;
  expireInSeconds: number;
}

/** Our send options in pg-boss's terms (`startAfterSeconds` → `startAfter`, omitted when 0 or absent). */
function sendOptions(options: { singletonKey?: string; startAfterSeconds?: number }) {
  const { startAfterSeconds, ...rest } = options;
  return startAfterSeconds ? { ...rest, startAfter: startAfterSeconds } : rest;
}

/** Dead workers (missed heartbeats) are noticed within seconds, not pg-boss's default minute. */
const supervision = { superviseIntervalSeconds: 5, monitorIntervalSeconds: 5 };

export interface Job<T> {
  id: string;
  data: T;
  retryCount: number;
}

/**
 * Durable jobs in PostgreSQL (pg-boss) with LISTEN/NOTIFY wake-ups. On PGlite it goes through the same PGlite
 * instance as everything else; on a server it keeps its own small pool. Jobs can be enqueued inside a caller's
 * Drizzle transaction, so a job exists if and only if the transaction that asked for it committed.
 */
export class JobQueue {
  private readonly pendingDeletes = new Map<string, string[]>();
  private deleteTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly boss: PgBoss,
    private readonly logger: JobQueueLogger,
  ) {}

  static async start(
    database: Database,
    logger: JobQueueLogger,
    queues: QueueDefinition[],
  ): Promise<JobQueue> {
    const backend = database.jobBackend;
    const boss =
      backend.kind === 'pglite'
        ? new PgBoss({
            db: fromPglite(backend.client as Parameters<typeof fromPglite>[0]),
            backend: 'pglite',
            useListenNotify: true,
            ...supervision,
          })
        : new PgBoss({
            connectionString: backend.url,
            max: 4,
            useListenNotify: true,
            application_name: 'agent-gateway-jobs',
            ...supervision,
          } as never);
    boss.on('error', (error: Error) => logger.error({ err: { message: error.message } }, 'job queue error'));
    await boss.start();
    for (const queue of queues) {
      const options = {
        retryLimit: queue.retryLimit,
        retryDelay: queue.retryDelaySeconds,
        retryBackoff: true,
        expireInSeconds: queue.expireInSeconds,
        notify: true,
        ...(queue.heartbeatSeconds ? { heartbeatSeconds: queue.heartbeatSeconds } : {}),
      };
      const existing = await boss.getQueue(queue.name);
      if (existing) await boss.updateQueue(queue.name, options as never);
      else await boss.createQueue(queue.name, options as never);
    }
    return new JobQueue(boss, logger);
  }

  /** Enqueues inside the caller's transaction (the job commits or rolls back with it). */
  async sendInTransaction(
    tx: Executor,
    queue: string,
    data: object,
    options: { singletonKey?: string; startAfterSeconds?: number } = {},
  ): Promise<string | null> {
    return this.boss.send(queue, data, {
      ...sendOptions(options),
      db: fromDrizzle(tx as never, sql as never),
    });
  }

  /**
   * Enqueues many jobs in ONE statement inside the caller's transaction (group-committed starts). Ids are chosen by
   * the caller so each job can be matched to its work.
   */
  async insertInTransaction(
    tx: Executor,
    queue: string,
    jobs: { id: string; data: object; startAfterSeconds?: number }[],
  ): Promise<void> {
    if (jobs.length === 0) return;
    await this.boss.insert(
      queue,
      jobs.map((job) => ({
        id: job.id,
        data: job.data,
        ...(job.startAfterSeconds ? { startAfter: job.startAfterSeconds } : {}),
      })),
      { db: fromDrizzle(tx as never, sql as never) },
    );
  }

  /**
   * Deletes jobs that are no longer needed (a backstop whose work finished), batched: ids collected over a short
   * window go in one statement. Best effort — a job that survives only fires, finds its work done and completes.
   */
  deleteSoon(queue: string, id: string): void {
    let ids = this.pendingDeletes.get(queue);
    if (!ids) {
      ids = [];
      this.pendingDeletes.set(queue, ids);
    }
    ids.push(id);
    this.deleteTimer ??= setTimeout(() => void this.flushDeletes(), 50);
  }

  private async flushDeletes(): Promise<void> {
    this.deleteTimer = undefined;
    const batches = [...this.pendingDeletes];
    this.pendingDeletes.clear();
    for (const [queue, ids] of batches) {
      await this.boss
        .deleteJob(queue, ids)
        .catch((error: Error) =>
          this.logger.warn(
            { err: { message: error.message }, queue, count: ids.length },
            'job cleanup failed',
          ),
        );
    }
  }

  async send(
    queue: string,
    data: object,
    options: { singletonKey?: string; startAfterSeconds?: number } = {},
  ): Promise<string | null> {
    return this.boss.send(queue, data, sendOptions(options));
  }

  /**
   * Runs `handler` for each job, up to `concurrency` at a time in this process. A throw retries the job.
   *
   * Each of the `concurrency` pg-boss workers fetches on its own, woken by NOTIFY when a job is sent (with a 30 s
   * backstop poll). A deferred job (`startAfter`, a retry delay) sends no notification when it comes due, so a queue
   * whose jobs are deferred on purpose (`deferredPollSeconds`) gets one watcher that polls at that interval; when it
   * finds a job it wakes the other workers, so jobs that came due together still run `concurrency` wide. Polling
   * with every worker instead cost `concurrency` queries per interval on an idle gateway (~75 /s at the default 50).
   */
  async work<T>(
    queue: string,
    concurrency: number,
    handler: (job: Job<T>) => Promise<void>,
    options: { deferredPollSeconds?: number } = {},
  ): Promise<void> {
    const run = async (jobs: Job<T>[]) => {
      for (const job of jobs) {
        try {
          await handler(job);
        } catch (error) {
          this.logger.warn(
            { err: { message: (error as Error).message }, queue, jobId: job.id },
            'job failed; will retry',
          );
          throw error;
        }
      }
    };
    // Without LISTEN/NOTIFY (not available) pg-boss falls back to pollingIntervalSeconds for every worker.
    const base = { batchSize: 1, pollingIntervalSeconds: 2 };
    if (!options.deferredPollSeconds) {
      await this.boss.work<T>(queue, { ...base, localConcurrency: concurrency } as never, run);
      return;
    }
    const others =
      concurrency > 1
        ? await this.boss.work<T>(queue, { ...base, localConcurrency: concurrency - 1 } as never, run)
        : undefined;
    const watcher = { ...base, notifyPollingIntervalSeconds: Math.max(2, options.deferredPollSeconds) };
    await this.boss.work<T>(queue, { ...watcher, localConcurrency: 1 } as never, async (jobs: Job<T>[]) => {
      if (others) this.wake(others);
      await run(jobs);
    });
  }

  /** Makes the workers of one `work()` call fetch now (a busy one fetches as soon as its job is done). */
  private wake(workId: string): void {
    for (const worker of this.boss.getWipData()) {
      if (worker.workId === workId) this.boss.notifyWorker(worker.id);
    }
  }

  /** A cron schedule; pg-boss makes sure only one instance across replicas enqueues each tick. */
  async schedule(queue: string, cron: string): Promise<void> {
    await this.boss.schedule(queue, cron, {});
  }

  async stop(): Promise<void> {
    if (this.deleteTimer) {
      clearTimeout(this.deleteTimer);
      await this.flushDeletes();
    }
    await this.boss.stop({ graceful: true, timeout: 5000, close: true } as never);
  }
}
