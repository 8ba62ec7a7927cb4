import cluster, { type Worker } from 'node:cluster';
import { pino } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config/settings.js';
import { isWorkerMessage, type PrimaryMessage } from './messages.js';

/** A worker that dies this many times within the window means something is wrong: stop instead of looping. */
const crashLimit = 5;
const crashWindowMs = 60_000;
const restartDelayMs = 1000;

/**
 * AGW_WORKERS > 1: this process forks the workers (each a full gateway on the shared port, like replicas on one
 * host) and supervises them. It serves no requests itself. It prints the banner once every worker listens, replaces a worker
 * that dies after it was listening (exits if one dies before, or if they keep dying), gathers every worker's
 * metrics for a scrape, and on SIGTERM/SIGINT tells each worker to shut down gracefully and exits when they have.
 * Returns once the workers are forked; the process exits from here when they are gone.
 */
export function runPrimary(config: Config): void {
  const log = pino({ level: config.logLevel, base: { pid: process.pid, role: 'primary' } });
  const aggregator = new AggregatorRegistry();
  const listened = new Set<number>();
  const crashes: number[] = [];
  let bannerPrinted = false;
  let stopping = false;
  let exitCode = 0;

  const fork = () => {
    const worker = cluster.fork();
    log.info({ worker: worker.process.pid }, 'worker started');
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
    if (message.type === 'agw:listening') {
      listened.add(worker.id);
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
    aggregator.clusterMetrics().then(
      (text) => reply(worker, { type: 'agw:metrics-response', id: message.id, text }),
      (error: Error) => reply(worker, { type: 'agw:metrics-response', id: message.id, error: error.message }),
    );
  });

  cluster.on('exit', (worker, code, signal) => {
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

function reply(worker: Worker, message: PrimaryMessage): void {
  if (worker.isConnected()) worker.send(message);
}
