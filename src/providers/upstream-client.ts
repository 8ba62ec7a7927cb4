import { type Dispatcher, Pool, util } from 'undici';
import { type ErrorBodyInfo, failureFromStatus, failureFromTransport } from './failure-classification.js';
import type { CallSignal, ProviderReply } from './provider.js';

export interface UpstreamClientOptions {
  /** Socket-level bound on waiting for headers and between body bytes (AI_RUNTIME_HTTP_TIMEOUT_MS). */
  httpTimeoutMs: number;
  connectionsPerOrigin?: number;
}

export interface JsonResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
  /** The body exactly as received (passed through unchanged when nothing in it needs rewriting). */
  text: string;
}

/** A 2xx streaming answer whose body has not been read yet. */
export interface StreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

const maxErrorBodyBytes = 64 * 1024;

/** One undici Pool per upstream origin, reused by every adapter; `close()` ends all sockets. */
export class UpstreamClient {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly options: UpstreamClientOptions) {}

  pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.options.connectionsPerOrigin ?? 1024,
        headersTimeout: this.options.httpTimeoutMs,
        bodyTimeout: this.options.httpTimeoutMs,
        keepAliveTimeout: 30_000,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /**
   * POSTs JSON and returns the parsed 2xx body. Non-2xx answers become classified failures using
   * `describeError` for the vendor's error shape; transport errors and aborts are classified too.
   */
  async postJson(
    provider: string,
    url: string,
    headers: Record<string, string>,
    body: unknown,
    signal: CallSignal,
    describeError: (json: unknown) => ErrorBodyInfo,
  ): Promise<JsonResponse> {
    const target = this.parse(url);
    try {
      const res = await postWhole(target, headers, body, signal);
      if (res.statusCode < 200 || res.statusCode >= 300)
        throw statusFailure(provider, res.statusCode, res.headers, res.text, describeError);
      return { status: res.statusCode, headers: res.headers, json: parseJson(res.text), text: res.text };
    } catch (error) {
      throw failureFromTransport(provider, error, signal);
    }
  }

  /**
   * POSTs JSON and returns the 2xx response with its body unread (SSE); non-2xx answers and transport errors become
   * classified failures exactly as in `postJson`.
   */
  async postStream(
    provider: string,
    url: string,
    headers: Record<string, string>,
    body: unknown,
    signal: CallSignal,
    describeError: (json: unknown) => ErrorBodyInfo,
  ): Promise<StreamResponse> {
    const target = this.parse(url);
    try {
      const res = await target.pool.request(postOptions(target, 'text/event-stream', headers, body, signal));
      if (res.statusCode < 200 || res.statusCode >= 300) {
        const text = await readText(res.body, maxErrorBodyBytes);
        throw statusFailure(provider, res.statusCode, res.headers, text, describeError);
      }
      return { status: res.statusCode, headers: res.headers, body: res.body };
    } catch (error) {
      throw failureFromTransport(provider, error, signal);
    }
  }

  private readonly targets = new Map<string, { pool: Pool; path: string }>();

  /** Endpoint URLs are few and fixed: parse each once (URL parsing costs more than the rest of a call's setup). */
  private parse(url: string): { pool: Pool; path: string } {
    let target = this.targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      target = { pool: this.pool(parsed.origin), path: `${parsed.pathname}${parsed.search}` };
      if (this.targets.size < 1000) this.targets.set(url, target);
    }
    return target;
  }

  async close(): Promise<void> {
    this.targets.clear();
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy().catch(() => undefined)));
  }
}

/**
 * One JSON POST to the endpoint, as both ways of sending it use it: `request()` for a stream (given the signal) and
 * `dispatch()` for an answer read whole (which wires the signal itself).
 */
function postOptions(
  target: { pool: Pool; path: string },
  accept: string,
  headers: Record<string, string>,
  body: unknown,
  signal?: CallSignal,
) {
  return {
    method: 'POST' as const,
    path: target.path,
    headers: Object.assign({ 'content-type': 'application/json', accept }, headers),
    body: JSON.stringify(body),
    signal,
  };
}

type ResponseHeaders = Record<string, string | string[] | undefined>;

/**
 * One JSON POST answered in full, read without undici's body stream: `request()` builds a Readable and its consume
 * machinery per call (~7 µs of CPU here), this handler only collects the chunks. Of a non-2xx answer only the first
 * 64 KB are kept (the vendor's error shape). Aborts, timeouts and transport errors reject with undici's own errors,
 * exactly as `request()` would, for `failureFromTransport` to classify.
 */
function postWhole(
  target: { pool: Pool; path: string },
  headers: Record<string, string>,
  body: unknown,
  signal: CallSignal,
): Promise<{ statusCode: number; headers: ResponseHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let statusCode = 0;
    let ok = false;
    let rawHeaders: Buffer[] = [];
    let abortRequest: ((reason?: Error) => void) | undefined;
    const onAbort = () => abortRequest?.(signal.reason as Error);
    const detach = onAbortOf(signal, onAbort);
    const handler: Dispatcher.DispatchHandler = {
      onConnect(abort) {
        abortRequest = abort;
        if (signal.aborted) abort(signal.reason as Error);
      },
      onHeaders(status, raw) {
        statusCode = status;
        ok = status >= 200 && status < 300;
        rawHeaders = raw as Buffer[];
        return true;
      },
      onData(chunk) {
        if (ok || size < maxErrorBodyBytes) chunks.push(chunk);
        size += chunk.length;
        return true;
      },
      onComplete() {
        detach();
        resolve({
          statusCode,
          headers: util.parseHeaders(rawHeaders) as ResponseHeaders,
          text: Buffer.concat(chunks).toString('utf8'),
        });
      },
      onError(error) {
        detach();
        reject(error);
      },
    };
    target.pool.dispatch(postOptions(target, 'application/json', headers, body), handler);
  });
}

/** Subscribes to an AbortSignal or the runtime's AttemptSignal; returns the unsubscribe. */
function onAbortOf(signal: CallSignal, listener: () => void): () => void {
  if ('addEventListener' in signal) {
    signal.addEventListener('abort', listener, { once: true });
    return () => signal.removeEventListener('abort', listener);
  }
  signal.once('abort', listener);
  return () => signal.removeListener('abort', listener);
}

/** A non-2xx answer as a classified failure, from at most 64 KB of its body (the vendor's error shape). */
function statusFailure(
  provider: string,
  statusCode: number,
  headers: ResponseHeaders,
  text: string,
  describeError: (json: unknown) => ErrorBodyInfo,
) {
  const json = parseJson(text);
  const info =
    json === undefined ? { reason: null, message: text.slice(0, 200) || null } : describeError(json);
  return failureFromStatus(provider, statusCode, headers, info);
}

async function readText(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < limit) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Reads a nested field without trusting the shape: `pick(json, 'error', 'message')`. */
export function pick(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/** A finite non-negative integer token count, or undefined. */
export function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
}

/**
 * A reply from a parsed body: the model the provider names (else the configured one) and token usage when both
 * counts are known.
 */
export function replyOf(
  output: string,
  model: unknown,
  fallbackModel: string,
  inputTokens: number | undefined,
  outputTokens: number | undefined,
): ProviderReply {
  return {
    output,
    model: typeof model === 'string' && model ? model : fallbackModel,
    usage: inputTokens === undefined || outputTokens === undefined ? null : { inputTokens, outputTokens },
  };
}

/** Joins a base endpoint and a path unless the endpoint already ends with it. */
export function joinEndpoint(endpoint: string, path: string): string {
  const base = endpoint.replace(/\/+$/, '');
  return base.endsWith(path) ? base : `${base}${path}`;
}
