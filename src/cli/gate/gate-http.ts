import { createHmac } from 'node:crypto';

/** One HTTP exchange as the gate records it: `status: null` means no answer (network error or timeout). */
export interface GateResponse {
  status: number | null;
  body: unknown;
  /** Transport error text, or null when the server answered. */
  error: string | null;
  attempts: number;
  durationMs: number;
}

export interface GateHttpOptions {
  baseUrl: string;
  adminToken: string;
  timeoutMs: number;
  /** Request ids are `<prefix>-<n>` so every probe can be found in the gateway's logs. */
  requestIdPrefix: string;
  maxAttempts?: number;
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const transientStatuses = new Set([502, 503, 504]);

/**
 * The gate's view of a deployment: JSON over fetch (as the rest of the CLI), bounded per-request timeouts, and
 * bounded retries with exponential backoff and jitter for transient failures (no answer, 502, 503, 504). The admin
 * token and webhook secret go into headers only; error texts never contain them.
 */
export class GateHttp {
  private counter = 0;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: GateHttpOptions) {
    this.maxAttempts = options.maxAttempts ?? 3;
    this.backoffMs = options.backoffMs ?? 300;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** An admin API call (with `x-admin-token`). */
  admin(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs?: number): Promise<GateResponse> {
    const headers: Record<string, string> = { 'x-admin-token': this.options.adminToken };
    let raw: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      raw = JSON.stringify(body);
    }
    return this.send(method, path, headers, raw, timeoutMs);
  }

  /** An unauthenticated GET (`/health`, `/ready`). */
  open(path: string): Promise<GateResponse> {
    return this.send('GET', path, {}, undefined);
  }

  /** A signed ingest POST: HMAC-SHA256 over `<timestamp>.<raw body>`, re-signed on every retry. */
  ingest(body: Record<string, unknown>, secret: string): Promise<GateResponse> {
    const raw = JSON.stringify(body);
    return this.send('POST', '/api/agent-gateway/adapters/ingest', {}, raw, undefined, () => {
      const timestamp = Math.floor(Date.now() / 1000);
      const signature = createHmac('sha256', secret).update(`${timestamp}.`).update(raw).digest('hex');
      return {
        'content-type': 'application/json',
        'x-gateway-timestamp': String(timestamp),
        'x-gateway-signature': `v1=${signature}`,
      };
    });
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    timeoutMs = this.options.timeoutMs,
    sign?: () => Record<string, string>,
  ): Promise<GateResponse> {
    const started = Date.now();
    let attempt = 0;
    for (;;) {
      attempt += 1;
      const result = await this.once(method, path, { ...headers, ...sign?.() }, body, timeoutMs);
      const transient = result.status === null || transientStatuses.has(result.status);
      if (!transient || attempt >= this.maxAttempts) {
        return { ...result, attempts: attempt, durationMs: Date.now() - started };
      }
      const delay = this.backoffMs * 2 ** (attempt - 1);
      await this.sleep(delay + Math.floor(Math.random() * (delay / 2)));
    }
  }

  private async once(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    timeoutMs: number,
  ): Promise<{ status: number | null; body: unknown; error: string | null }> {
    this.counter += 1;
    let response: Response;
    try {
      response = await fetch(`${this.options.baseUrl}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          'x-request-id': `${this.options.requestIdPrefix}-${this.counter}`,
          ...headers,
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const e = error as Error & { cause?: { code?: string; message?: string } };
      const reason =
        e.name === 'TimeoutError'
          ? `no answer within ${timeoutMs} ms`
          : (e.cause?.code ?? e.cause?.message ?? e.message);
      return { status: null, body: null, error: `${method} ${path}: ${reason}` };
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      return {
        status: null,
        body: null,
        error: `${method} ${path}: body not received (${(error as Error).name})`,
      };
    }
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text.slice(0, 500);
    }
    return { status: response.status, body: parsed, error: null };
  }
}

/** `CODE: message` of an error body, or the HTTP status / transport error when there is none. */
export function describeFailure(response: GateResponse, expected: string): string {
  if (response.status === null) return `${response.error ?? 'no answer'} (expected ${expected})`;
  const body = response.body as { error?: unknown; message?: unknown } | null;
  const code = typeof body?.error === 'string' ? ` ${body.error}` : '';
  const message = typeof body?.message === 'string' ? `: ${body.message}` : '';
  return `HTTP ${response.status}${code}${message} (expected ${expected})`;
}

export function errorCode(response: GateResponse): string | null {
  const body = response.body as { error?: unknown } | null;
  return typeof body?.error === 'string' ? body.error : null;
}

/** A JSON body (or any value) as an object to read fields from; anything that is not an object reads as `{}`. */
export function obj(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
