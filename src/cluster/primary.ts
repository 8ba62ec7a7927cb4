import cluster, { type Worker } from 'node:cluster';
import { pino } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config/settings.js';
import { isWorkerMessage, type MetricsPart, type PrimaryMessage, type WorkerMessage } from './messages.js';

/** A worker that dies this many times within the window means something is wrong: stop instead of looping. */
const crashLimit = 5;
const crashWindowMs = 60_000;
const restartDelayMs = 1000;

/**
 * AGW_WORKERS > 1: this process forks the workers (each a full gateway on the shared port, like replicas on one
 * host) and supervises them. It serves no requests itself. It prints the banner once every worker listens,
 * replaces a worker that dies after it was listening (exits if one dies or hangs before, or if they keep dying), gathers
 * every worker's metrics for a scrape, and on SIGTERM/SIGINT tells each worker to shut down gracefully and exits
 * when they have. Returns once the workers are forked; the process exits from here when they are gone.
 */
export function runPrimary(config: Config): void {
  const log = pino({ level: config.logLevel, base: { pid: process.pid, role: 'primary' } });
  const collections = new MetricsCollections(5000);
  const listened = new Set<number>();
  const crashes: number[] = [];
  let bannerPrinted = false;
  let stopping = false;
  let exitCode = 0;

  // A worker that neither listens nor exits (waiting on the migration lock a stuck replica holds, say) would leave
  // the gateway short of a worker, or never up, with nothing said: past the deadline it is killed, and its exit is
  // handled as a failed start.
  const deadlines = new StartDeadlines(config.workerStartTimeoutMs, (worker) => {
    if (stopping || worker.isDead()) return;
    log.error(
      { worker: worker.process.pid, timeoutMs: config.workerStartTimeoutMs },
      'worker did not start listening in time; killing it',
    );
    worker.process.kill('SIGKILL');
  });
  const fork = () => {
    const worker = cluster.fork();
    log.info({ worker: worker.process.pid }, 'worker started');
    deadlines.add(worker);
    return worker;
  };
  // A worker stays in cluster.workers until both its 'exit' and 'disconnect' fired, in either order.
  const live = () =>
    Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
  const exitWhenDone = () => {
    process.exitCode = exitCode;
    if (live().length === 0) process.exit(exitCode);
  };
  const stopAll = (signal: NodeJS.Signals, reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, reason }, 'stopping workers');
    for (const worker of live()) worker.process.kill(signal);
    // Each worker has its own shutdown watchdog; this one covers a worker that ignores the signal.
    const force = setTimeout(() => {
      log.error('workers did not stop in time; killing them');
      for (const worker of live()) worker.process.kill('SIGKILL');
      exitCode ||= 1;
    }, config.shutdownTimeoutMs + 10_000);
    force.unref();
    exitWhenDone();
  };

  cluster.on('message', (worker, message: unknown) => {
    if (!isWorkerMessage(message)) return;
    if (message.type === 'agw:migrating') {
      log.info({ worker: worker.process.pid }, 'worker applying migrations; start deadlines paused');
      deadlines.migrationStarted(worker.id);
      return;
    }
    if (message.type === 'agw:migrated') {
      deadlines.migrationDone(worker.id);
      return;
    }
    if (message.type === 'agw:listening') {
      // Killed at its deadline (or already gone) while this message was on its way: it is not serving.
      if (!deadlines.listening(worker.id) || worker.isDead()) return;
      listened.add(worker.id);
      log.info({ worker: worker.process.pid }, 'worker listening');
      // The banner says the gateway is up: print it once every first-generation worker listens (and handles signals).
      if (!bannerPrinted && listened.size >= config.workers) {
        bannerPrinted = true;
        const pids = live().map((w) => w.process.pid);
        process.stdout.write(
          `${message.banner.trimEnd()}\n  workers:  ${config.workers} (primary ${process.pid}; workers ${pids.join(', ')})\n\n`,
        );
      }
      return;
    }
    if (message.type === 'agw:metrics-part') {
      collections.part(worker.id, message);
      return;
    }
    const requestId = message.id;
    collections.start(
      live().filter((w) => listened.has(w.id)),
      (result) => reply(worker, { type: 'agw:metrics-response', id: requestId, ...result }),
    );
  });

  cluster.on('exit', (worker, code, signal) => {
    deadlines.exited(worker.id);
    collections.gone(worker.id);
    const started = listened.delete(worker.id);
    if (stopping) {
      log.info({ worker: worker.process.pid, code, signal }, 'worker stopped');
      if (code !== 0 && code !== null) exitCode ||= code;
      // A worker that listened stops on the forwarded signal through its own handler (exit 0): killed by one means it
      // did not. One still starting has no handler yet and dies of the signal, as intended.
      else if (signal !== null && started) exitCode ||= 1;
      exitWhenDone();
      return;
    }
    if (!started) {
      // It never listened: configuration, store or port problem. Every worker would fail the same way.
      log.error({ worker: worker.process.pid, code, signal }, 'worker failed to start; stopping');
      exitCode = code || 1;
      stopAll('SIGTERM', 'a worker failed to start');
      return;
    }
    const now = Date.now();
    crashes.push(now);
    while (crashes.length > 0 && (crashes[0] as number) < now - crashWindowMs) crashes.shift();
    if (crashes.length >= crashLimit) {
      log.error({ crashes: crashes.length, windowMs: crashWindowMs }, 'workers keep dying; stopping');
      exitCode = 1;
      stopAll('SIGTERM', 'crash loop');
      return;
    }
    log.error({ worker: worker.process.pid, code, signal }, 'worker died; starting a replacement');
    setTimeout(() => {
      if (!stopping) fork();
    }, restartDelayMs);
  });

  process.on('SIGTERM', () => stopAll('SIGTERM', 'SIGTERM'));
  // Ctrl-C reaches the workers too (same process group); they ignore the forwarded repeat and keep draining.
  process.on('SIGINT', () => stopAll('SIGINT', 'SIGINT'));

  for (let i = 0; i < config.workers; i++) fork();
}

/**
 * The start deadlines of workers that have not listened yet. While any worker applies migrations every deadline is
 * paused — its siblings wait on the lock it holds, and a long backfill is progress, not a hang — and re-armed in full
 * once no worker is migrating. Waiting on a lock held by another process (another host's replica) still counts.
 */
class StartDeadlines {
  private readonly pending = new Map<number, { worker: Worker; timer?: NodeJS.Timeout }>();
  private readonly migrating = new Set<number>();
  /** Workers killed at their deadline, until their exit is handled. */
  private readonly timedOut = new Set<number>();

  constructor(
    private readonly timeoutMs: number,
    private readonly onExpired: (worker: Worker) => void,
  ) {}

  add(worker: Worker): void {
    this.pending.set(worker.id, { worker });
    if (this.migrating.size === 0) this.arm(worker.id);
  }

  /** The worker says it listens: false when it was already killed at its deadline (the message was on its way). */
  listening(id: number): boolean {
    if (this.timedOut.has(id)) return false;
    this.forget(id);
    return true;
  }

  exited(id: number): void {
    this.forget(id);
    this.timedOut.delete(id);
  }

  private forget(id: number): void {
    clearTimeout(this.pending.get(id)?.timer);
    this.pending.delete(id);
    this.migrationDone(id);
  }

  migrationStarted(id: number): void {
    if (this.migrating.size === 0)
      for (const entry of this.pending.values()) {
        clearTimeout(entry.timer);
        entry.timer = undefined;
      }
    this.migrating.add(id);
  }

  migrationDone(id: number): void {
    if (!this.migrating.delete(id) || this.migrating.size > 0) return;
    for (const pendingId of this.pending.keys()) this.arm(pendingId);
  }

  private arm(id: number): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (this.migrating.size > 0) return;
      this.pending.delete(id);
      this.timedOut.add(id);
      this.onExpired(entry.worker);
    }, this.timeoutMs);
    entry.timer.unref();
  }
}

function reply(worker: Worker, message: PrimaryMessage): void {
  if (worker.isConnected()) worker.send(message);
}

interface Collection {
  waiting: Set<number>;
  parts: MetricsPart[];
  timer: NodeJS.Timeout;
  done(result: { text: string } | { error: string }): void;
}

/**
 * One scrape = one collection: every worker that is listening sends its registry, and the parts are aggregated
 * (prom-client's `aggregate`: counters and histograms summed, each gauge by its `aggregator`). A worker still
 * starting is not asked (it has counted nothing); one that exits meanwhile is dropped from the collection (its counts
 * leave with it); one that does not answer in time fails the scrape rather than make counters look reset.
 */
class MetricsCollections {
  private readonly open = new Map<number, Collection>();
  private nextId = 0;

  constructor(private readonly timeoutMs: number) {}

  start(workers: Worker[], done: Collection['done']): void {
    const id = this.nextId++;
    const collection: Collection = {
      waiting: new Set(workers.map((w) => w.id)),
      parts: [],
      timer: setTimeout(() => {
        this.open.delete(id);
        done({
          error: `${collection.waiting.size} worker(s) did not send their metrics within ${this.timeoutMs} ms`,
        });
      }, this.timeoutMs),
      done,
    };
    this.open.set(id, collection);
    for (const worker of workers) reply(worker, { type: 'agw:metrics-collect', id });
    this.settle(id, collection);
  }

  part(workerId: number, message: Extract<WorkerMessage, { type: 'agw:metrics-part' }>): void {
    const collection = this.open.get(message.id);
    if (!collection?.waiting.delete(workerId)) return;
    if ('error' in message) {
      this.finish(message.id, collection, { error: message.error });
      return;
    }
    collection.parts.push(message.metrics);
    this.settle(message.id, collection);
  }

  gone(workerId: number): void {
    for (const [id, collection] of this.open)
      if (collection.waiting.delete(workerId)) this.settle(id, collection);
  }

  private settle(id: number, collection: Collection): void {
    if (collection.waiting.size > 0) return;
    let text: Promise<string>;
    try {
      text = AggregatorRegistry.aggregate(collection.parts).metrics();
    } catch (error) {
      text = Promise.reject(error);
    }
    text.then(
      (aggregated) => this.finish(id, collection, { text: aggregated }),
      (error: Error) => this.finish(id, collection, { error: error.message }),
    );
  }

  private finish(id: number, collection: Collection, result: { text: string } | { error: string }): void {
    if (!this.open.delete(id)) return;
    clearTimeout(collection.timer);
    collection.done(result);
  }
}
