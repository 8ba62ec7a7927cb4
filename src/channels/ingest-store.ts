import { sql } from 'drizzle-orm';
import { type Executor, jsonColumn, queryOne, queryRows, queryRowsNamed, toIso } from '../db/database.js';
import {
  type AppendResult,
  appendEventCtes,
  BATCH_EVENT_COLUMNS,
  batchAppendResult,
  batchEventInput,
  type NewEvent,
} from '../sessions/event-store.js';

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

export function claimKey(connectorId: string, eventId: string): string {
  return `${connectorId}\u0000${eventId}`;
}

/** One request of `ingestEventsBatch`: its dedup claim and the event to append to its session. */
export interface IngestBatchItem {
  claim: Omit<DedupRecord, 'createdAt'> & { sessionEventId: string };
  event: NewEvent & { id: string };
}

/**
 * What `ingestEventsBatch` did with one request: `appended` (claimed, with its event and session), `replay` (the
 * session is active and (connector, eventId) was already claimed), or `elsewhere` (its session is missing or not
 * active: nothing was written for it; the caller takes the general path).
 */
export type IngestBatchResult =
  | { kind: 'appended'; appended: AppendResult }
  | { kind: 'replay' }
  | { kind: 'elsewhere' };

/**
 * Ingest's common case in ONE autocommitted statement: lock the batch's sessions (in id order), claim the dedup
 * key of every request whose session is active, and append each claimed event (`appendEventCtes`) — one round
 * trip for the whole batch instead of a transaction's five. The statement is atomic: every claim it made has its
 * event. Each session may appear once per batch.
 */
export async function ingestEventsBatch(
  executor: Executor,
  items: IngestBatchItem[],
): Promise<IngestBatchResult[]> {
  if (items.length === 0) return [];
  const input = items.map(({ claim, event }, ord) => ({
    ...batchEventInput(ord, claim.sessionId, event),
    dedup_connector: claim.connectorId,
    dedup_event: claim.eventId,
    adapter: claim.adapter,
    channel: claim.channel,
    external_session_id: claim.externalSessionId,
  }));
  const rows = await queryRowsNamed<Record<string, unknown>>(
    executor,
    'agw_ingest_events_batch',
    sql`with input as (
          select * from jsonb_to_recordset(${JSON.stringify(input)}::jsonb) as i(${BATCH_EVENT_COLUMNS},
            dedup_connector text, dedup_event text, adapter text, channel text, external_session_id text)
        ), locked as (
          select s.id, s.status from sessions s
          where s.id in (select session_id from input)
          order by s.id for update
        ), claimed as (
          insert into ingest_dedup (connector_id, event_id, adapter, channel, session_id, external_session_id, session_event_id)
          select i.dedup_connector, i.dedup_event, i.adapter, i.channel, i.session_id, i.external_session_id, i.event_id
          from input i join locked l on l.id = i.session_id and l.status = 'active'
          on conflict (connector_id, event_id) do nothing
          returning connector_id, event_id
        ), ${appendEventCtes(sql`input i join claimed c on c.connector_id = i.dedup_connector and c.event_id = i.dedup_event`)}
        select to_jsonb(a) - 'input_ord' as session_row, i.ord as ingest_ord, l.status as ingest_session_status,
          c.event_id is not null as ingest_claimed
        from input i
          left join locked l on l.id = i.session_id
          left join claimed c on c.connector_id = i.dedup_connector and c.event_id = i.dedup_event
          left join appended a on a.input_ord = i.ord
          cross join notified
        order by i.ord`,
  );
  return rows.map((row) => {
    if (row.ingest_session_status !== 'active') return { kind: 'elsewhere' };
    if (row.ingest_claimed !== true) return { kind: 'replay' };
    const session = jsonColumn(row.session_row) as Record<string, unknown> | null;
    if (!session)
      throw new Error('ingestEventsBatch: a claimed event was not appended to its locked, active session');
    return { kind: 'appended', appended: batchAppendResult(session, input[Number(row.ingest_ord)]!) };
  });
}
