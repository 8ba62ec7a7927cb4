import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { ConnectorSecret } from '../config/ingest-settings.js';
import { AppError } from '../errors/app-error.js';

/** Which secrets may sign a connector's requests, after allow-list and policy decided it may send at all. */
export interface SecretSources {
  connectorSecrets: Readonly<Record<string, ConnectorSecret[]>>;
  globalSecret: string | undefined;
  previousSecrets: readonly string[];
}

/**
 * The candidate secrets for one request: the connector's own (all of them, or the one named by key id) or, when it
 * has none, the global secret and its previous values. Throws the SPEC's 403 / 503 when nothing may verify it.
 */
export function candidateSecrets(
  sources: SecretSources,
  connectorId: string,
  keyId: string | undefined,
  requireConnectorSecret: boolean,
): string[] {
  const own = sources.connectorSecrets[connectorId];
  if (own && own.length > 0) {
    if (keyId === undefined) return own.map((s) => s.secret);
    // An unknown key id still goes through a comparison (against nothing that can match): no early answer.
    return own.filter((s) => s.keyId === keyId).map((s) => s.secret);
  }
  if (requireConnectorSecret) {
    throw new AppError(
      'AGENT_GATEWAY_INGEST_CONNECTOR_SECRET_REQUIRED',
      `Connector "${connectorId}" must sign with its own secret and none is configured (AGENT_GATEWAY_INGEST_CONNECTOR_SECRETS).`,
    );
  }
  const global = [sources.globalSecret, ...sources.previousSecrets].filter((s): s is string => Boolean(s));
  if (global.length === 0) {
    throw new AppError(
      'AGENT_GATEWAY_INGEST_UNAVAILABLE',
      'Ingest has no signing secret configured (AGENT_GATEWAY_WEBHOOK_SECRET or AGENT_GATEWAY_INGEST_CONNECTOR_SECRETS).',
    );
  }
  return global;
}

/** `v1=<hex>` entries of the signature header (several, comma-separated, during a sender's own rotation). */
function presentedDigests(header: string | undefined): Buffer[] {
  if (!header) return [];
  const out: Buffer[] = [];
  for (const part of header.split(',').slice(0, 5)) {
    const match = /^\s*v1=([0-9a-fA-F]{64})\s*$/.exec(part);
    if (match) out.push(Buffer.from(match[1]!, 'hex'));
  }
  return out;
}

/** HMAC-SHA256 over `<timestamp>.<raw body bytes>`: the exact bytes received, never a re-serialisation. */
export function signIngest(secret: string, timestamp: string, rawBody: Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/**
 * Verifies the signature in constant time against every candidate (no early exit), then the timestamp window.
 * A bad signature is `SIGNATURE_INVALID` whatever the timestamp; a good one that is too old is `SIGNATURE_EXPIRED`.
 * Returns the signature that verified (hex).
 */
export function verifyIngestSignature(input: {
  secrets: string[];
  signatureHeader: string | undefined;
  timestampHeader: string | undefined;
  rawBody: Buffer;
  nowSec: number;
  maxSkewSec: number;
}): string {
  const timestamp = input.timestampHeader?.trim() ?? '';
  const digests = presentedDigests(input.signatureHeader);
  let matched: Buffer | undefined;
  if (/^\d{1,12}$/.test(timestamp)) {
    for (const secret of input.secrets) {
      const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(input.rawBody).digest();
      for (const digest of digests) if (timingSafeEqual(expected, digest)) matched ??= expected;
    }
  }
  if (matched === undefined) {
    throw new AppError(
      'AGENT_GATEWAY_INGEST_SIGNATURE_INVALID',
      'x-gateway-signature does not match: send v1=<hex HMAC-SHA256 of "<x-gateway-timestamp>.<raw body>"> with a configured secret.',
    );
  }
  if (Math.abs(input.nowSec - Number(timestamp)) > input.maxSkewSec) {
    throw new AppError(
      'AGENT_GATEWAY_INGEST_SIGNATURE_EXPIRED',
      `x-gateway-timestamp is more than ${input.maxSkewSec} s away from the server clock; sign the request again.`,
    );
  }
  return matched.toString('hex');
}

/** Constant-time equality of two strings of any length (compares their SHA-256). */
export function secretEquals(presented: string | undefined, expected: string): boolean {
  const a = createHash('sha256')
    .update(presented ?? '')
    .digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && presented !== undefined;
}
