/** What the primary and its workers say to each other over the cluster IPC channel. */
export type WorkerMessage =
  /** The worker listens; the primary prints the banner of the first one. */
  | { type: 'agw:listening'; banner: string }
  /** A scrape reached this worker: gather every worker's metrics. */
  | { type: 'agw:metrics-request'; id: number };

export type PrimaryMessage =
  | { type: 'agw:metrics-response'; id: number; text: string }
  | { type: 'agw:metrics-response'; id: number; error: string };

export function isWorkerMessage(message: unknown): message is WorkerMessage {
  const type = (message as { type?: unknown } | null)?.type;
  return type === 'agw:listening' || type === 'agw:metrics-request';
}

export function isPrimaryMessage(message: unknown): message is PrimaryMessage {
  return (message as { type?: unknown } | null)?.type === 'agw:metrics-response';
}
