import { sql } from 'drizzle-orm';
import { type Executor, queryOne, queryRows, toIso } from '../db/database.js';
import { eventWriteFacts, type NewEvent, SESSION_EVENTS_CHANNEL } from '../sessions/event-store.js';
import {
  eventFromRow,
  type SessionEvent,
  type SessionRecord,
  sessionFromRow,
} from '../sessions/session-model.js';

/** What a dedup row remembers about the event it let through (a replay answers with it). */
export interface DedupRecord {
  connectorId: string;
  eventId: string;
  adapter: string;
  channel: string;
  sessionId: string;
  externalSessionId: string | null;
  sessionEventId: string | null;
  createdAt: string;
}

function dedupFromRow(row: Record<string, unknown>): DedupRecord {
  return {
    connectorId: row.connector_id as string,
    eventId: row.event_id as string,
    adapter: row.adapter as string,
    channel: row.channel as string,
    sessionId: row.session_id as string,
    externalSessionId: (row.external_session_id as string | null) ?? null,
    sessionEventId: (row.session_event_id as string | null) ?? null,
    createdAt: toIso(row.created_at)!,
  };
}

/**
 * Claims (connector, eventId) inside the caller's transaction. Returns false when the pair exists: a concurrent
 * duplicate blocks on the unique key until the first transaction ends, then sees its committed row.
 */
export async function claimIngestEvent(
  tx: Executor,
  claim: Omit<DedupRecord, 'createdAt'>,
): Promise<boolean> {
  const row = await queryOne<{ connector_id: string }>(
    tx,
    sql`insert into ingest_dedup (connector_id, event_id, adapter, channel, session_id, external_session_id, session_event_id)
        values (${claim.connectorId}, ${claim.eventId}, ${claim.adapter}, ${claim.channel}, ${claim.sessionId},
                ${claim.externalSessionId}, ${claim.sessionEventId})
        on conflict (connector_id, event_id) do nothing
        returning connector_id`,
  );
  return row !== undefined;
}

/** Drops a claim this transaction made (its request was refused after claiming); others never saw it. */
export async function releaseIngestClaim(tx: Executor, connectorId: string, eventId: string): Promise<void> {
  await tx.execute(
    sql`delete from ingest_dedup where connector_id = ${connectorId} and event_id = ${eventId}`,
  );
}

export async function findIngestEvent(
  executor: Executor,
  connectorId: string,
  eventId: string,
): Promise<DedupRecord | undefined> {
  const row = await queryOne<Record<string, unknown>>(
    executor,
    sql`select * from ingest_dedup where connector_id = ${connectorId} and event_id = ${eventId}`,
  );
  return row ? dedupFromRow(row) : undefined;
}

export interface CounterIncrement {
  hour: string;
  connectorId: string;
  channel: string;
  outcome: string;
  code: string;
  count: number;
}

/** Adds a batch of counter increments in one statement (the rollup table's only writer). */
export async function addIngestCounts(executor: Executor, rows: CounterIncrement[]): Promise<void> {
  if (rows.length === 0) return;
  await executor.execute(
    sql`insert into ingest_counters (hour, connector_id, channel, outcome, code, count) values ${sql.join(
      rows.map(
        (r) =>
          sql`(${r.hour}::timestamptz, ${r.connectorId}, ${r.channel}, ${r.outcome}, ${r.code}, ${r.count})`,
      ),
      sql`, `,
    )}
        on conflict (hour, connector_id, channel, outcome, code)
        do update set count = ingest_counters.count + excluded.count`,
  );
}

export interface ConnectorCount {
  connectorId: string;
  channel: string;
  outcome: string;
  code: string;
  count: number;
}

/** Totals per (connector, channel, outcome, code) over the last `hours` (reads the rollup, never the events). */
export async function ingestCountsSince(
  executor: Executor,
  hours: number,
  connectorId?: string,
): Promise<ConnectorCount[]> {
  const rows = await queryRows<Record<string, unknown>>(
    executor,
    sql`select connector_id, channel, outcome, code, sum(count)::int as n from ingest_counters
        where hour >= date_trunc('hour', clock_timestamp()) - make_interval(hours => ${hours})
        ${connectorId ? sql`and connector_id = ${connectorId}` : sql``}
        group by connector_id, channel, outcome, code
        order by connector_id, channel, outcome, code`,
  );
  return rows.map((r) => ({
    connectorId: r.connector_id as string,
    channel: r.channel as string,
    outcome: r.outcome as string,
    code: r.code as string,
    count: Number(r.n),
  }));
}

/** One accepted ingest request ready to commit: its dedup claim and the event for its (existing, active) session. */
export interface IngestAppend {
  claim: Omit<DedupRecord, 'createdAt'> & { sessionEventId: string };
  event: NewEvent;
}

export interface IngestAppendOutcome {
  /** False when (connector, eventId) was already claimed: a replay, nothing written. */
  claimed: boolean;
  session?: SessionRecord;
  event?: SessionEvent;
}

/**
 * Claims and appends a batch of ingest events in ONE statement: dedup rows, the session rows' seq and roll-up
 * columns, the event rows, their counters and the NOTIFY for live streams. The caller's transaction holds every
 * session row (`for update`), each active and each at most once in the batch, so every claimed item's update
 * succeeds; a claimed item without its event would be a lost acknowledgement, so it fails the whole statement.
 */
export async function appendIngestBatch(tx: Executor, items: IngestAppend[]): Promise<IngestAppendOutcome[]> {
  const input = items.map(({ claim, event }, ord) => {
    const facts = eventWriteFacts(event);
    return {
      ord,
      connector_id: claim.connectorId,
      event_id: claim.eventId,
      adapter: claim.adapter,
      channel: claim.channel,
      session_id: claim.sessionId,
      external_session_id: claim.externalSessionId,
      event_rec_id: claim.sessionEventId,
      from_role: event.fromRole,
      to_role: event.toRole ?? null,
      type: event.type,
      payload: event.payload === undefined ? {} : event.payload,
      ev_connector_id: event.connectorId ?? null,
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
  });
  const rows = await queryRows<Record<string, unknown>>(
    tx,
    sql`with input as (
          select * from jsonb_to_recordset(${JSON.stringify(input)}::jsonb) as i(
            ord int, connector_id text, event_id text, adapter text, channel text, session_id text,
            external_session_id text, event_rec_id text, from_role text, to_role text, type text, payload jsonb,
            ev_connector_id text, provider text, step_inc int, failed_inc int, completed_inc int, cycle_failed_inc int,
            attempt_success int, attempt_failed int, attempt_skipped int, counters jsonb)
        ), claim as (
          insert into ingest_dedup (connector_id, event_id, adapter, channel, session_id, external_session_id, session_event_id)
          select connector_id, event_id, adapter, channel, session_id, external_session_id, event_rec_id
          from input order by ord
          on conflict (connector_id, event_id) do nothing
          returning connector_id, event_id
        ), claimed as (
          select i.* from input i join claim c on c.connector_id = i.connector_id and c.event_id = i.event_id
        ), appended as (
          update sessions s set
            last_seq = s.last_seq + 1,
            event_count = s.event_count + 1,
            updated_at = clock_timestamp(),
            last_event_at = clock_timestamp(),
            last_event_type = c.type,
            step_count = s.step_count + c.step_inc,
            failed_step_count = s.failed_step_count + c.failed_inc,
            cycle_completed_count = s.cycle_completed_count + c.completed_inc,
            cycle_failed_count = s.cycle_failed_count + c.cycle_failed_inc,
            attempt_success_count = s.attempt_success_count + c.attempt_success,
            attempt_failed_count = s.attempt_failed_count + c.attempt_failed,
            attempt_skipped_count = s.attempt_skipped_count + c.attempt_skipped
          from claimed c
          where s.id = c.session_id and s.status = 'active'
          returning s.*, c.ord as input_ord
        ), events as (
          insert into session_events (id, session_id, seq, from_role, to_role, type, payload, connector_id, provider, created_at)
          select c.event_rec_id, a.id, a.last_seq, c.from_role, c.to_role, c.type, c.payload, c.ev_connector_id,
                 c.provider, a.updated_at
          from appended a join claimed c on c.ord = a.input_ord
        ), counted as (
          insert into session_counters (session_id, dimension, key, count)
          select a.id, x.dimension, x.key, x.count
          from appended a join claimed c on c.ord = a.input_ord,
               jsonb_to_recordset(c.counters) as x(dimension text, key text, count int)
          on conflict (session_id, dimension, key) do update set count = session_counters.count + excluded.count
        ), notified as (
          select count(pg_notify(${SESSION_EVENTS_CHANNEL}, json_build_object('sessionId', a.id, 'seq', a.last_seq)::text)) as n
          from appended a
        )
        select i.ord as batch_ord, (c.ord is not null) as batch_claimed, a.*
        from input i left join claimed c on c.ord = i.ord left join appended a on a.input_ord = i.ord, notified
        order by i.ord`,
  );
  const outcomes: IngestAppendOutcome[] = [];
  for (const row of rows) {
    const item = items[Number(row.batch_ord)]!;
    const sent = input[Number(row.batch_ord)]!;
    if (!row.batch_claimed) {
      outcomes.push({ claimed: false });
      continue;
    }
    if (row.id == null)
      throw new Error(
        `ingest batch: ${item.claim.sessionId} was not appendable after its claim (rolled back)`,
      );
    const session = sessionFromRow(row);
    const event = eventFromRow({
      id: item.claim.sessionEventId,
      session_id: session.id,
      seq: session.lastSeq,
      from_role: sent.from_role,
      to_role: sent.to_role,
      type: sent.type,
      payload: sent.payload,
      connector_id: sent.ev_connector_id,
      created_at: row.updated_at,
    });
    outcomes.push({ claimed: true, session, event });
  }
  return outcomes;
}
