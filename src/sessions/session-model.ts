/** The session and event shapes the API returns (SPEC §5), and their mapping from table rows. */
import { toIso as iso } from '../db/database.js';

export interface Session {
  id: string;
  channel: string;
  externalSessionId: string | null;
  draftId: string | null;
  connectorId: string | null;
  roles: string[];
  metadata: Record<string, unknown>;
  status: 'active' | 'closed';
  createdAt: string;
  updatedAt: string;
  lastEventAt: string | null;
  closedAt: string | null;
  eventCount: number;
  archivedCount: number;
}

/** Everything the sessions row holds, including the counters maintained on append. */
export interface SessionRecord extends Session {
  lastSeq: number;
  lastEventType: string | null;
  stepCount: number;
  failedStepCount: number;
  cycleCompletedCount: number;
  cycleFailedCount: number;
  compactCount: number;
  autoCompactCount: number;
  prunedCountTotal: number;
  lastCompactedAt: string | null;
}

export interface SessionEvent {
  id: string;
  sessionId: string;
  seq: number;
  fromRole: string;
  toRole: string | null;
  type: string;
  payload: unknown;
  connectorId: string | null;
  createdAt: string;
  archived?: boolean;
}

type Row = Record<string, unknown>;

function json<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

export function sessionFromRow(row: Row): SessionRecord {
  return {
    id: row.id as string,
    channel: row.channel as string,
    externalSessionId: (row.external_session_id as string | null) ?? null,
    draftId: (row.draft_id as string | null) ?? null,
    connectorId: (row.connector_id as string | null) ?? null,
    roles: json<string[]>(row.roles, []),
    metadata: json<Record<string, unknown>>(row.metadata, {}),
    status: row.status as 'active' | 'closed',
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    lastEventAt: iso(row.last_event_at),
    closedAt: iso(row.closed_at),
    eventCount: Number(row.event_count),
    archivedCount: Number(row.archived_count),
    lastSeq: Number(row.last_seq),
    lastEventType: (row.last_event_type as string | null) ?? null,
    stepCount: Number(row.step_count),
    failedStepCount: Number(row.failed_step_count),
    cycleCompletedCount: Number(row.cycle_completed_count),
    cycleFailedCount: Number(row.cycle_failed_count),
    compactCount: Number(row.compact_count),
    autoCompactCount: Number(row.auto_compact_count),
    prunedCountTotal: Number(row.pruned_count_total),
    lastCompactedAt: iso(row.last_compacted_at),
  };
}

/** The public session shape (counters stay internal; status and summary expose them). */
export function publicSession(record: SessionRecord): Session {
  return {
    id: record.id,
    channel: record.channel,
    externalSessionId: record.externalSessionId,
    draftId: record.draftId,
    connectorId: record.connectorId,
    roles: record.roles,
    metadata: record.metadata,
    status: record.status,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    lastEventAt: record.lastEventAt,
    closedAt: record.closedAt,
    eventCount: record.eventCount,
    archivedCount: record.archivedCount,
  };
}

export function eventFromRow(row: Row): SessionEvent {
  const event: SessionEvent = {
    id: row.id as string,
    sessionId: row.session_id as string,
    seq: Number(row.seq),
    fromRole: row.from_role as string,
    toRole: (row.to_role as string | null) ?? null,
    type: row.type as string,
    // Any JSON value, parsed by the driver: a top-level string payload is a string, never JSON text to parse again.
    payload: row.payload === undefined ? null : row.payload,
    connectorId: (row.connector_id as string | null) ?? null,
    createdAt: iso(row.created_at)!,
  };
  if (row.archived !== undefined) event.archived = Boolean(row.archived);
  return event;
}

/** Staleness and attention, derived from the counters (SPEC §5 status, runbook SLO "stale > 15 min"). */
export function sessionHealth(record: SessionRecord, staleMinutes: number, now: number) {
  const last = Date.parse(record.lastEventAt ?? record.createdAt);
  const stale = record.status === 'active' && now - last > staleMinutes * 60_000;
  const needsAttention = stale || record.failedStepCount > 0 || record.cycleFailedCount > 0;
  return { stale, needsAttention, health: needsAttention ? ('attention' as const) : ('ok' as const) };
}
