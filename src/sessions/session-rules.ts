import { createHash, randomUUID } from 'node:crypto';
import { isAppError } from '../errors/app-error.js';

/** Identifier rules of SPEC §5, shared by the API, ingest and orchestration. */
export const patterns = {
  sessionId: /^ags-[a-z0-9][a-z0-9-]{7,95}$/,
  channel: /^[a-z0-9][a-z0-9._:-]{1,63}$/,
  role: /^[a-z0-9][a-z0-9_-]{0,63}$/,
  eventType: /^[a-z0-9][a-z0-9._:-]{0,119}$/,
  externalSessionId: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
  providerId: /^[a-z0-9][a-z0-9._-]{0,63}$/,
} as const;

/** The role the gateway itself writes as; clients cannot. */
export const SYSTEM_ROLE = 'system';

/** Event types only the gateway writes. */
const reservedTypes = new Set([
  'session_created',
  'session_compacted',
  'session_closed',
  'reply_delivered',
  'reply_delivery_failed',
]);
const reservedPrefixes = ['draft_cycle_'];

export function isReservedEventType(type: string): boolean {
  return reservedTypes.has(type) || reservedPrefixes.some((prefix) => type.startsWith(prefix));
}

/**
 * Deterministic id for (channel, external id) so every replica derives the same session:
 * `ags-` + the first 24 hex characters of SHA-1(`<channel>:<lowercase externalSessionId>`).
 */
export function sessionIdFor(channel: string, externalSessionId: string | null | undefined): string {
  if (!externalSessionId) return `ags-${randomUUID()}`;
  const digest = createHash('sha1').update(`${channel}:${externalSessionId.toLowerCase()}`).digest('hex');
  return `ags-${digest.slice(0, 24)}`;
}

/** Step events of a draft cycle (`draft_cycle_<role>_completed`) feed the step counters. */
export function isDraftCycleStep(type: string): boolean {
  return /^draft_cycle_[a-z0-9_-]+_completed$/.test(type) && type !== 'draft_cycle_completed';
}

/** An append refused because its session is closed or gone: background writers drop their event, nothing to retry. */
export function isSessionGone(error: unknown): boolean {
  return (
    isAppError(error) &&
    (error.code === 'AGENT_GATEWAY_SESSION_CLOSED' || error.code === 'AGENT_GATEWAY_SESSION_NOT_FOUND')
  );
}
