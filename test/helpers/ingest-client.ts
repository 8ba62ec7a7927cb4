import { createHmac } from 'node:crypto';
import type { TestGateway } from './test-gateway.js';

export const INGEST_PATH = '/api/agent-gateway/adapters/ingest';

export interface SignOptions {
  secret: string;
  /** Unix seconds; default now. */
  timestamp?: number;
  keyId?: string;
  headers?: Record<string, string>;
  /** Sign these bytes instead of the body (to prove a mismatch is refused). */
  signBody?: string;
  query?: string;
}

/** The signature a sender computes: v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>">. */
export function ingestSignature(
  secret: string,
  timestamp: number | string,
  rawBody: string | Buffer,
): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;
}

export function signedHeaders(rawBody: string, options: SignOptions): Record<string, string> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    'content-type': 'application/json',
    'x-gateway-timestamp': String(timestamp),
    'x-gateway-signature': ingestSignature(options.secret, timestamp, options.signBody ?? rawBody),
    ...(options.keyId ? { 'x-gateway-key-id': options.keyId } : {}),
    ...options.headers,
  };
}

/** A signed ingest request through `app.inject`; `body` may be a string to control the exact bytes. */
export function signedIngest(t: TestGateway, body: unknown, options: SignOptions) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  return t.gateway.app.inject({
    method: 'POST',
    url: `${INGEST_PATH}${options.query ?? ''}`,
    headers: signedHeaders(raw, options),
    payload: raw,
  });
}

export { eventually } from './wait.js';
