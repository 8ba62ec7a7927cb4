import type { Registry } from 'prom-client';

/** One worker's registry as prom-client's `getMetricsAsJSON()` returns it (what `aggregate` takes). */
export type MetricsPart = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** What the primary and its workers say to each other over the cluster IPC channel. */
export type WorkerMessage =
  /** The worker listens; the primary prints the banner once every worker does. */
  | { type: 'agw:listening'; banner: string }
  /** The worker holds the migration lock and applies migrations (start deadlines pause), then is done with them. */
  | { type: 'agw:migrating' }
  | { type: 'agw:migrated' }
  /** A scrape reached this worker: gather every worker's metrics. */
  | { type: 'agw:metrics-request'; id: number }
  /** This worker's metrics for collection `id`. */
  | { type: 'agw:metrics-part'; id: number; metrics: MetricsPart }
  | { type: 'agw:metrics-part'; id: number; error: string };

export type PrimaryMessage =
  | { type: 'agw:metrics-response'; id: number; text: string }
  | { type: 'agw:metrics-response'; id: number; error: string }
  /** Send your registry for collection `id`. */
  | { type: 'agw:metrics-collect'; id: number };

const workerTypes = new Set([
  'agw:listening',
  'agw:migrating',
  'agw:migrated',
  'agw:metrics-request',
  'agw:metrics-part',
]);
const primaryTypes = new Set(['agw:metrics-response', 'agw:metrics-collect']);

export function isWorkerMessage(message: unknown): message is WorkerMessage {
  return workerTypes.has((message as { type?: unknown } | null)?.type as string);
}

export function isPrimaryMessage(message: unknown): message is PrimaryMessage {
  return primaryTypes.has((message as { type?: unknown } | null)?.type as string);
}
