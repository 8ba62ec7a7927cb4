import cluster from 'node:cluster';
import type { Registry } from 'prom-client';
import { isPrimaryMessage, type WorkerMessage } from './messages.js';

/** True in a worker forked by the primary (AGW_WORKERS > 1). */
export const isClusterWorker = cluster.isWorker;

export function tellPrimary(message: WorkerMessage): void {
  process.send?.(message);
}

/** In a worker: sends this registry to the primary whenever it collects the workers' metrics for a scrape. */
export function shareMetricsWithPrimary(registry: Registry): void {
  process.on('message', (message: unknown) => {
    if (!isPrimaryMessage(message) || message.type !== 'agw:metrics-collect') return;
    const { id } = message;
    registry.getMetricsAsJSON().then(
      (metrics) => tellPrimary({ type: 'agw:metrics-part', id, metrics }),
      (error: Error) => tellPrimary({ type: 'agw:metrics-part', id, error: error.message }),
    );
  });
}

const pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
let nextId = 0;
let listening = false;

/** In a worker: every worker's metrics, aggregated by the primary (counters summed, shared gauges taken once). */
export function clusterMetrics(timeoutMs = 5000): Promise<string> {
  if (!listening) {
    listening = true;
    process.on('message', (message: unknown) => {
      if (!isPrimaryMessage(message) || message.type !== 'agw:metrics-response') return;
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if ('error' in message) waiter.reject(new Error(message.error));
      else waiter.resolve(message.text);
    });
  }
  const id = nextId++;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error('the primary did not answer with the workers’ metrics in time'));
    }, timeoutMs);
    timer.unref();
    pending.set(id, {
      resolve: (text) => {
        clearTimeout(timer);
        resolve(text);
      },
      reject: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    });
    tellPrimary({ type: 'agw:metrics-request', id });
  });
}
