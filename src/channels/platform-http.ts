import { request } from 'undici';

/** How one outbound platform call ended, classified for the outbox (it never reads raw responses itself). */
export type DeliveryOutcome =
  | { ok: true; messageId: string | null }
  | { ok: false; retryable: boolean; status: number | null; error: string; retryAfterSec?: number };

export interface PlatformResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** POSTs JSON with a bounded wait; network failures become a retryable outcome instead of a throw. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<PlatformResponse | { networkError: string }> {
  try {
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      body: JSON.stringify(body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await response.body.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { raw: text.slice(0, 200) };
    }
    return { status: response.statusCode, headers: response.headers, body: parsed };
  } catch (error) {
    return { networkError: (error as Error).message };
  }
}

/** Seconds from a `Retry-After` header (seconds form), if present and sane. */
export function retryAfterHeader(headers: PlatformResponse['headers']): number | undefined {
  const raw = headers['retry-after'];
  const value = Number(Array.isArray(raw) ? raw[0] : raw);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** The outcome for an HTTP failure that is not a rate limit: 5xx retry, other 4xx are final. */
export function httpFailure(status: number, error: string): DeliveryOutcome {
  return { ok: false, retryable: status >= 500 || status === 408, status, error };
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
