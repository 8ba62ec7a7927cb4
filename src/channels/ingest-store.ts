import { sql } from 'drizzle-orm';
import { type Executor, queryOne, queryRows, toIso } from '../db/database.js';

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

/**
 * Claims many (connector, eventId) pairs in one statement inside the caller's transaction; returns the claimed
 * pairs as `connector\u0000eventId` keys (a pair already claimed is absent: a replay).
 */
export async function claimIngestEvents(
  tx: Executor,
  claims: Omit<DedupRecord, 'createdAt'>[],
): Promise<Set<string>> {
  if (claims.length === 0) return new Set();
  const rows = await queryRows<{ connector_id: string; event_id: string }>(
    tx,
    sql`insert into ingest_dedup (connector_id, event_id, adapter, channel, session_id, external_session_id, session_event_id)
        select connector_id, event_id, adapter, channel, session_id, external_session_id, session_event_id
        from jsonb_to_recordset(${JSON.stringify(
          claims.map((c) => ({
            connector_id: c.connectorId,
            event_id: c.eventId,
            adapter: c.adapter,
            channel: c.channel,
            session_id: c.sessionId,
            external_session_id: c.externalSessionId,
            session_event_id: c.sessionEventId,
          })),
        )}::jsonb) as i(connector_id text, event_id text, adapter text, channel text, session_id text,
                        external_session_id text, session_event_id text)
        on conflict (connector_id, event_id) do nothing
        returning connector_id, event_id`,
  );
  return new Set(rows.map((row) => claimKey(row.connector_id, row.event_id)));
}

export function claimKey(connectorId: string, eventId: string): string {
  return `${connectorId}\u0000${eventId}`;
}
