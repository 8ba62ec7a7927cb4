import { randomUUID } from 'node:crypto';
import { type SQL, sql } from 'drizzle-orm';
import { type Executor, queryOne, queryRows } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { eventFromRow, type SessionEvent, type SessionRecord, sessionFromRow } from './session-model.js';
import { isDraftCycleStep, patterns } from './session-rules.js';

/** NOTIFY channel carrying `{ sessionId, seq }` for every committed event (live stream fan-out). */
export const SESSION_EVENTS_CHANNEL = 'agw_session_events';

export interface NewEvent {
  fromRole: string;
  toRole?: string | null;
  type: string;
  payload?: unknown;
  connectorId?: string | null;
  /** A precomputed `age-<uuid>` id (ingest records it in its dedup row before appending); generated otherwise. */
  id?: string;
}

export interface AppendResult {
  event: SessionEvent;
  session: SessionRecord;
}

const attemptStatuses = new Set(['success', 'failed', 'skipped_cooldown']);

/** Facts read from a step payload for counters; bounded so a client cannot create unbounded keys. */
function payloadFacts(payload: unknown): {
  provider: string | null;
  attempts: Map<string, number>;
  failed: boolean;
} {
  const attempts = new Map<string, number>();
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return { provider: null, attempts, failed: false };
  }
  const record = payload as Record<string, unknown>;
  const provider =
    typeof record.selectedProvider === 'string' && patterns.providerId.test(record.selectedProvider)
      ? record.selectedProvider
      : null;
  if (Array.isArray(record.attempts)) {
    for (const attempt of record.attempts.slice(0, 100)) {
      const status = (attempt as Record<string, unknown> | null)?.status;
      if (typeof status === 'string' && attemptStatuses.has(status))
        attempts.set(status, (attempts.get(status) ?? 0) + 1);
    }
  }
  return { provider, attempts, failed: record.failed === true };
}

/** What an append writes besides the event row: counter increments and the session's roll-up columns. */
export interface EventWriteFacts {
  provider: string | null;
  counters: [dimension: string, key: string, count: number][];
  stepIncrement: number;
  failedStepIncrement: number;
  cycleCompletedIncrement: number;
  cycleFailedIncrement: number;
  /** Provider attempts in the payload by status (the session's telemetry roll-ups). */
  attempts: { success: number; failed: number; skipped: number };
}

export function eventWriteFacts(input: NewEvent): EventWriteFacts {
  const facts = payloadFacts(input.payload);
  const isStep = isDraftCycleStep(input.type);
  const counters: [string, string, number][] = [
    ['type', input.type, 1],
    ['role', input.fromRole, 1],
  ];
  if (facts.provider) counters.push(['provider', facts.provider, 1]);
  if (input.connectorId) counters.push(['connector', input.connectorId, 1]);
  for (const [status, count] of facts.attempts) counters.push(['attempt', status, count]);
  return {
    provider: facts.provider,
    counters,
    stepIncrement: isStep ? 1 : 0,
    failedStepIncrement: isStep && facts.failed ? 1 : 0,
    cycleCompletedIncrement: input.type === 'draft_cycle_completed' ? 1 : 0,
    cycleFailedIncrement: input.type === 'draft_cycle_failed' ? 1 : 0,
    attempts: {
      success: facts.attempts.get('success') ?? 0,
      failed: facts.attempts.get('failed') ?? 0,
      skipped: facts.attempts.get('skipped_cooldown') ?? 0,
    },
  };
}

/**
 * An event's write facts as recordset columns, for the batch statements (ingest's `appendEventCtes`, the
 * draft-cycle starts and commits), which declare them with `FACT_COLUMNS` and apply them with `rollupIncrements`.
 */
export function factColumns(facts: EventWriteFacts) {
  return {
    provider: facts.provider,
    step_inc: facts.stepIncrement,
    failed_inc: facts.failedStepIncrement,
    completed_inc: facts.cycleCompletedIncrement,
    cycle_failed_inc: facts.cycleFailedIncrement,
    attempt_success: facts.attempts.success,
    attempt_failed: facts.attempts.failed,
    attempt_skipped: facts.attempts.skipped,
    counters: facts.counters.map(([dimension, key, count]) => ({ dimension, key, count })),
  };
}

/** The `jsonb_to_recordset` column list of `factColumns`. */
export const FACT_COLUMNS = sql.raw(
  'provider text, step_inc int, failed_inc int, completed_inc int, cycle_failed_inc int, attempt_success int, attempt_failed int, attempt_skipped int, counters jsonb',
);

/** `SET` items adding a recordset row's (alias `i`) fact columns to the session row (alias `s`) roll-ups. */
export const rollupIncrements = sql.raw(`step_count = s.step_count + i.step_inc,
            failed_step_count = s.failed_step_count + i.failed_inc,
            cycle_completed_count = s.cycle_completed_count + i.completed_inc,
            cycle_failed_count = s.cycle_failed_count + i.cycle_failed_inc,
            attempt_success_count = s.attempt_success_count + i.attempt_success,
            attempt_failed_count = s.attempt_failed_count + i.attempt_failed,
            attempt_skipped_count = s.attempt_skipped_count + i.attempt_skipped`);

/** A new event id (`age-<uuid>`). */
export function newEventId(): string {
  return `age-${randomUUID()}`;
}

/**
 * Appends one event inside the caller's transaction. The `UPDATE … RETURNING` on the session row both locks it
 * and allocates the next `seq`, so concurrent appends from any number of replicas get 1, 2, 3… with no gap.
 */
export async function appendEvent(
  tx: Executor,
  sessionId: string,
  input: NewEvent,
  options: { allowClosed?: boolean } = {},
): Promise<AppendResult> {
  const facts = eventWriteFacts(input);
  const claimSeq = () =>
    queryOne<Record<string, unknown>>(
      tx,
      sql`update sessions set
          last_seq = last_seq + 1,
          event_count = event_count + 1,
          updated_at = clock_timestamp(),
          last_event_at = clock_timestamp(),
          last_event_type = ${input.type},
          step_count = step_count + ${facts.stepIncrement},
          failed_step_count = failed_step_count + ${facts.failedStepIncrement},
          cycle_completed_count = cycle_completed_count + ${facts.cycleCompletedIncrement},
          cycle_failed_count = cycle_failed_count + ${facts.cycleFailedIncrement},
          attempt_success_count = attempt_success_count + ${facts.attempts.success},
          attempt_failed_count = attempt_failed_count + ${facts.attempts.failed},
          attempt_skipped_count = attempt_skipped_count + ${facts.attempts.skipped}
        where id = ${sessionId} ${options.allowClosed ? sql`` : sql`and status = 'active'`}
        returning *`,
    );
  let row = await claimSeq();
  if (!row) {
    const existing = await queryOne<{ status: string }>(
      tx,
      sql`select status from sessions where id = ${sessionId}`,
    );
    // A session created by a transaction that committed after our UPDATE's snapshot: take the seq now.
    if (existing && (existing.status === 'active' || options.allowClosed)) row = await claimSeq();
    if (!row && !existing)
      throw new AppError('AGENT_GATEWAY_SESSION_NOT_FOUND', `Session ${sessionId} does not exist.`);
    if (!row)
      throw new AppError(
        'AGENT_GATEWAY_SESSION_CLOSED',
        `Session ${sessionId} is closed; nothing can be appended to it.`,
      );
  }
  const session = sessionFromRow(row);
  const payload = input.payload === undefined ? {} : input.payload;
  // One statement (one round trip): the event row, its counters and the NOTIFY that wakes live streams.
  const eventRow = await queryOne<Record<string, unknown>>(
    tx,
    sql`with ev as (
          insert into session_events (id, session_id, seq, from_role, to_role, type, payload, connector_id, provider, created_at)
          values (${input.id ?? newEventId()}, ${sessionId}, ${session.lastSeq}, ${input.fromRole}, ${input.toRole ?? null},
                  ${input.type}, ${JSON.stringify(payload)}::jsonb, ${input.connectorId ?? null}, ${facts.provider},
                  ${session.updatedAt})
          returning *
        ), counted as (
          insert into session_counters (session_id, dimension, key, count) values ${sql.join(
            facts.counters.map(
              ([dimension, key, count]) => sql`(${sessionId}, ${dimension}, ${key}, ${count})`,
            ),
            sql`, `,
          )}
          on conflict (session_id, dimension, key) do update set count = session_counters.count + excluded.count
        ), notified as (
          select pg_notify(${SESSION_EVENTS_CHANNEL}, ${JSON.stringify({ sessionId, seq: session.lastSeq })}) as n
        )
        select ev.* from ev, notified`,
  );
  return { event: eventFromRow(eventRow!), session };
}

/** One batch-append input row: the event, its session and its write facts (`batchEventInput`). */
export interface BatchEventInput extends ReturnType<typeof factColumns> {
  ord: number;
  session_id: string;
  event_id: string;
  from_role: string;
  to_role: string | null;
  type: string;
  payload: unknown;
  connector_id: string | null;
}

export function batchEventInput(
  ord: number,
  sessionId: string,
  event: NewEvent & { id: string },
): BatchEventInput {
  return {
    ord,
    session_id: sessionId,
    event_id: event.id,
    from_role: event.fromRole,
    to_role: event.toRole ?? null,
    type: event.type,
    payload: event.payload === undefined ? {} : event.payload,
    connector_id: event.connectorId ?? null,
    ...factColumns(eventWriteFacts(event)),
  };
}

/** The `jsonb_to_recordset` column list of `BatchEventInput`. */
export const BATCH_EVENT_COLUMNS = sql`ord int, session_id text, event_id text, from_role text, to_role text, type text,
            payload jsonb, connector_id text, ${FACT_COLUMNS}`;

/**
 * The CTEs `appended`, `events`, `counted` and `notified` of a batch append: one event per row of `source` (a FROM
 * item whose alias `i` has the `BATCH_EVENT_COLUMNS`; the statement's recordset CTE is named `input`) to its active
 * session — the row-locked seq, the roll-up columns, the event row, its counters and its NOTIFY, as `appendEvent`.
 * `appended` returns the session rows with `input_ord`.
 */
export function appendEventCtes(source: SQL): SQL {
  return sql`appended as (
          update sessions s set
            last_seq = s.last_seq + 1,
            event_count = s.event_count + 1,
            updated_at = clock_timestamp(),
            last_event_at = clock_timestamp(),
            last_event_type = i.type,
            ${rollupIncrements}
          from ${source}
          where s.id = i.session_id and s.status = 'active'
          returning s.*, i.ord as input_ord
        ), events as (
          insert into session_events (id, session_id, seq, from_role, to_role, type, payload, connector_id, provider, created_at)
          select i.event_id, a.id, a.last_seq, i.from_role, i.to_role, i.type, i.payload, i.connector_id, i.provider,
                 a.updated_at
          from appended a join input i on i.ord = a.input_ord
        ), counted as (
          insert into session_counters (session_id, dimension, key, count)
          select a.id, x.dimension, x.key, x.count
          from appended a join input i on i.ord = a.input_ord,
               jsonb_to_recordset(i.counters) as x(dimension text, key text, count int)
          on conflict (session_id, dimension, key) do update set count = session_counters.count + excluded.count
        ), notified as (
          select count(pg_notify(${SESSION_EVENTS_CHANNEL}, json_build_object('sessionId', a.id, 'seq', a.last_seq)::text)) as n
          from appended a
        )`;
}

/** The appended event and session of a batch-append row (`appended`'s session columns) for its input. */
export function batchAppendResult(row: Record<string, unknown>, sent: BatchEventInput): AppendResult {
  const session = sessionFromRow(row);
  const event = eventFromRow({
    id: sent.event_id,
    session_id: session.id,
    seq: session.lastSeq,
    from_role: sent.from_role,
    to_role: sent.to_role,
    type: sent.type,
    payload: sent.payload,
    connector_id: sent.connector_id,
    created_at: row.updated_at,
  });
  return { event, session };
}

export interface CompactionOutcome {
  totalBefore: number;
  prunedCount: number;
  keptCount: number;
  prunedByType: Record<string, number>;
}

/**
 * Moves all but the newest `keepRecent` live events into the archive. The caller holds the session row lock
 * (`select … for update`), so appends wait and nothing is lost between live and archive.
 */
export async function moveOldEventsToArchive(
  tx: Executor,
  sessionId: string,
  keepRecent: number,
): Promise<CompactionOutcome> {
  const before = await queryOne<{ n: number }>(
    tx,
    sql`select count(*)::int as n from session_events where session_id = ${sessionId}`,
  );
  const totalBefore = before?.n ?? 0;
  if (totalBefore <= keepRecent)
    return { totalBefore, prunedCount: 0, keptCount: totalBefore, prunedByType: {} };
  const cutoff = await queryOne<{ seq: number }>(
    tx,
    sql`select seq from session_events where session_id = ${sessionId} order by seq desc offset ${keepRecent - 1} limit 1`,
  );
  const moved = await queryRows<{ type: string; n: number }>(
    tx,
    sql`with moved as (
          delete from session_events where session_id = ${sessionId} and seq < ${cutoff!.seq} returning *
        ), archived as (
          insert into session_event_archive
            (id, session_id, seq, from_role, to_role, type, payload, connector_id, provider, created_at, archived_at)
          select id, session_id, seq, from_role, to_role, type, payload, connector_id, provider, created_at, clock_timestamp()
          from moved returning type
        )
        select type, count(*)::int as n from archived group by type`,
  );
  const prunedByType: Record<string, number> = {};
  let prunedCount = 0;
  for (const { type, n } of moved) {
    prunedByType[type] = n;
    prunedCount += n;
  }
  return { totalBefore, prunedCount, keptCount: totalBefore - prunedCount, prunedByType };
}

export interface EventQuery {
  limit: number;
  beforeSeq?: number;
  types?: string[];
  eventQuery?: string;
  fromRole?: string;
  toRole?: string;
  provider?: string;
  connector?: string;
  includeArchived?: boolean;
}

function eventFilters(query: EventQuery): SQL[] {
  const filters: SQL[] = [];
  if (query.types && query.types.length > 0) {
    filters.push(
      sql`type in (${sql.join(
        query.types.map((t) => sql`${t}`),
        sql`, `,
      )})`,
    );
  }
  if (query.fromRole) filters.push(sql`from_role = ${query.fromRole}`);
  if (query.toRole) filters.push(sql`to_role = ${query.toRole}`);
  if (query.provider) filters.push(sql`provider = ${query.provider}`);
  if (query.connector) filters.push(sql`connector_id = ${query.connector}`);
  if (query.eventQuery) {
    const escaped = query.eventQuery.replace(/[\\%_]/g, (c) => `\\${c}`);
    filters.push(sql`(payload::text ilike ${`%${escaped}%`} or type ilike ${`%${escaped}%`})`);
  }
  return filters;
}

function eventSource(sessionId: string, includeArchived: boolean | undefined): SQL {
  const columns = sql`id, session_id, seq, from_role, to_role, type, payload, connector_id, provider, created_at`;
  if (!includeArchived) {
    return sql`(select ${columns}, false as archived from session_events where session_id = ${sessionId})`;
  }
  return sql`(select ${columns}, false as archived from session_events where session_id = ${sessionId}
              union all
              select ${columns}, true as archived from session_event_archive where session_id = ${sessionId})`;
}

/** Events of one session, newest first, with filters; `total` counts every match, not just this page. */
export async function listEvents(
  executor: Executor,
  sessionId: string,
  query: EventQuery,
): Promise<{ events: SessionEvent[]; total: number; nextBeforeSeq: number | null }> {
  const filters = eventFilters(query);
  const where = filters.length > 0 ? sql`where ${sql.join(filters, sql` and `)}` : sql``;
  const pageFilters = query.beforeSeq === undefined ? filters : [...filters, sql`seq < ${query.beforeSeq}`];
  const pageWhere = pageFilters.length > 0 ? sql`where ${sql.join(pageFilters, sql` and `)}` : sql``;
  const source = eventSource(sessionId, query.includeArchived);
  const [rows, count] = await Promise.all([
    queryRows<Record<string, unknown>>(
      executor,
      sql`select * from ${source} e ${pageWhere} order by seq desc limit ${query.limit + 1}`,
    ),
    queryOne<{ n: number }>(executor, sql`select count(*)::int as n from ${source} e ${where}`),
  ]);
  const page = rows.slice(0, query.limit).map(eventFromRow);
  const nextBeforeSeq = rows.length > query.limit ? (page.at(-1)?.seq ?? null) : null;
  return { events: page, total: count?.n ?? 0, nextBeforeSeq };
}

/** The newest `limit` live (or live + archived) events in chronological order. */
export async function latestEvents(
  executor: Executor,
  sessionId: string,
  limit: number,
  includeArchived = false,
): Promise<SessionEvent[]> {
  const rows = await queryRows<Record<string, unknown>>(
    executor,
    sql`select * from ${eventSource(sessionId, includeArchived)} e order by seq desc limit ${limit}`,
  );
  return rows.map(eventFromRow).reverse();
}

/** One event by (session, seq), live or archived; undefined when it does not exist. */
export async function getEvent(
  executor: Executor,
  sessionId: string,
  seq: number,
): Promise<SessionEvent | undefined> {
  const row = await queryOne<Record<string, unknown>>(
    executor,
    sql`select * from ${eventSource(sessionId, true)} e where seq = ${seq} limit 1`,
  );
  return row ? eventFromRow(row) : undefined;
}

/** One event by its id within a session, live or archived. */
export async function getEventById(
  executor: Executor,
  sessionId: string,
  id: string,
): Promise<SessionEvent | undefined> {
  const row = await queryOne<Record<string, unknown>>(
    executor,
    sql`select * from ${eventSource(sessionId, true)} e where id = ${id} limit 1`,
  );
  return row ? eventFromRow(row) : undefined;
}
