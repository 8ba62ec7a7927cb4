import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { fromDrizzle, fromPglite, PgBoss } from 'pg-boss';
import type { Database, Executor } from '../db/database.js';
import { QueueWorker } from './queue-worker.js';

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

/**
 * pg-boss's NOTIFY channel for its default schema (`pgboss_` + the first 24 hex digits of sha224 of the schema
 * name, as its plans build it). `test/jobs/job-queue.test.ts` fails if a pg-boss upgrade changes it.
 */
export const PGBOSS_NOTIFY_CHANNEL = `pgboss_${createHash('sha224').update('pgboss').digest('hex').slice(0, 24)}`;

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
    private readonly queues: ReadonlyMap<string, QueueDefinition>,
    /** One fetch loop per queue with a worker; the NOTIFY listener wakes them by queue name. */
    private readonly workers: Map<string, QueueWorker<unknown>>,
    /** Set when this process hears pg-boss's NOTIFY for sent jobs (else workers poll more often). */
    private readonly unlisten: (() => Promise<void>) | undefined,
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
            useListenNotify: false,
            ...supervision,
          })
        : new PgBoss({
            connectionString: backend.url,
            max: 4,
            // Its listener would only wake pg-boss's own workers; ours listen below.
            useListenNotify: false,
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
    // pg-boss sends NOTIFY <channel>, '<queue name>' with every job it can run now (queues created with notify).
    const workers = new Map<string, QueueWorker<unknown>>();
    let unlisten: (() => Promise<void>) | undefined;
    try {
      unlisten = await database.listen(PGBOSS_NOTIFY_CHANNEL, (name) => workers.get(name)?.wake());
    } catch (error) {
      logger.warn(
        { err: { message: (error as Error).message } },
        'job notifications unavailable; workers poll every 2 s',
      );
    }
    return new JobQueue(boss, logger, new Map(queues.map((queue) => [queue.name, queue])), workers, unlisten);
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
   * Runs `handler` for each job, up to `concurrency` at a time in this process. A throw fails the job, and pg-boss
   * retries it (retryLimit, retryDelay with backoff). One fetch loop per queue (`QueueWorker`), woken by pg-boss's
   * NOTIFY for the queue and polling every `deferredPollSeconds` (jobs deferred on purpose send no notification when
   * they come due), else every 5 s (retries coming due, notifications missed while LISTEN reconnects).
   */
  async work<T>(
    queue: string,
    concurrency: number,
    handler: (job: Job<T>) => Promise<void>,
    options: { deferredPollSeconds?: number } = {},
  ): Promise<void> {
    if (this.workers.has(queue)) throw new Error(`queue ${queue} already has a worker`);
    const pollSeconds = this.unlisten ? (options.deferredPollSeconds ?? 5) : 2;
    const worker = new QueueWorker<T>(
      this.boss,
      this.logger,
      {
        queue,
        concurrency,
        pollMs: Math.max(1, pollSeconds) * 1000,
        heartbeatSeconds: this.queues.get(queue)?.heartbeatSeconds,
      },
      handler,
    );
    this.workers.set(queue, worker as QueueWorker<unknown>);
    worker.wake();
  }

  /** A cron schedule; pg-boss makes sure only one instance across replicas enqueues each tick. */
  async schedule(queue: string, cron: string): Promise<void> {
    await this.boss.schedule(queue, cron, {});
  }

  async stop(): Promise<void> {
    await this.unlisten?.().catch(() => undefined);
    // Jobs in hand get 5 s to finish; what is left is failed so another replica retries it at once.
    await Promise.all([...this.workers.values()].map((worker) => worker.stop(5000)));
    if (this.deleteTimer) {
      clearTimeout(this.deleteTimer);
      await this.flushDeletes();
    }
    await this.boss.stop({ graceful: true, timeout: 5000, close: true } as never);
  }
}
