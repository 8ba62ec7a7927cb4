import { type SQL, sql } from 'drizzle-orm';
import { type Executor, queryOne, queryRows } from '../db/database.js';
import { type SessionRecord, sessionFromRow } from './session-model.js';

export interface NewSession {
  id: string;
  channel: string;
  externalSessionId: string | null;
  draftId: string | null;
  connectorId: string | null;
  roles: string[];
  metadata: Record<string, unknown>;
}

/** Creates the session unless it exists; returns the stored row and whether this call created it. */
export async function ensureSession(
  tx: Executor,
  input: NewSession,
): Promise<{ session: SessionRecord; created: boolean }> {
  const inserted = await queryOne<Record<string, unknown>>(
    tx,
    sql`insert into sessions (id, channel, external_session_id, draft_id, connector_id, roles, metadata)
        values (${input.id}, ${input.channel}, ${input.externalSessionId}, ${input.draftId}, ${input.connectorId},
                ${JSON.stringify(input.roles)}::jsonb, ${JSON.stringify(input.metadata)}::jsonb)
        on conflict (id) do nothing
        returning *`,
  );
  if (inserted) return { session: sessionFromRow(inserted), created: true };
  const existing = await getSession(tx, input.id);
  return { session: existing!, created: false };
}

export async function getSession(
  executor: Executor,
  id: string,
  forUpdate = false,
): Promise<SessionRecord | undefined> {
  const row = await queryOne<Record<string, unknown>>(
    executor,
    sql`select * from sessions where id = ${id} ${forUpdate ? sql`for update` : sql``}`,
  );
  return row ? sessionFromRow(row) : undefined;
}

/**
 * Locks the given session rows for appends (in id order, so two lockers never wait on each other in a cycle); ids
 * without a row lock nothing.
 */
export async function lockSessionsForAppend(tx: Executor, ids: string[]): Promise<void> {
  const unique = [...new Set(ids)].sort();
  await tx.execute(
    sql`select id from sessions where id in (${sql.join(
      unique.map((id) => sql`${id}`),
      sql`, `,
    )}) order by id for update`,
  );
}

export async function markClosed(tx: Executor, id: string): Promise<SessionRecord> {
  const row = await queryOne<Record<string, unknown>>(
    tx,
    sql`update sessions set status = 'closed', closed_at = clock_timestamp(), updated_at = clock_timestamp()
        where id = ${id} returning *`,
  );
  return sessionFromRow(row!);
}

/** Books a compaction's counts on the session row (the row is locked by the caller). */
export async function recordCompaction(
  tx: Executor,
  id: string,
  prunedCount: number,
  automatic: boolean,
): Promise<void> {
  await tx.execute(
    sql`update sessions set
          event_count = event_count - ${prunedCount},
          archived_count = archived_count + ${prunedCount},
          compact_count = compact_count + 1,
          auto_compact_count = auto_compact_count + ${automatic ? 1 : 0},
          pruned_count_total = pruned_count_total + ${prunedCount},
          last_compacted_at = clock_timestamp()
        where id = ${id}`,
  );
  await tx.execute(
    sql`insert into session_compactions (session_id, automatic, pruned_count) values (${id}, ${automatic}, ${prunedCount})`,
  );
}

export interface SessionListQuery {
  limit: number;
  channel?: string;
  status?: 'active' | 'closed';
  provider?: string;
  connector?: string;
  staleMinutes?: number;
  after?: { updatedAt: string; id: string };
}

/** Newest `updated_at` first, keyset-paginated on (updated_at, id). */
export async function listSessions(executor: Executor, query: SessionListQuery): Promise<SessionRecord[]> {
  const filters: SQL[] = [];
  if (query.channel) filters.push(sql`s.channel = ${query.channel}`);
  if (query.status) filters.push(sql`s.status = ${query.status}`);
  if (query.provider) {
    filters.push(sql`exists (select 1 from session_counters c where c.session_id = s.id
                              and c.dimension = 'provider' and c.key = ${query.provider})`);
  }
  if (query.connector) {
    filters.push(sql`(s.connector_id = ${query.connector} or exists (select 1 from session_counters c
                      where c.session_id = s.id and c.dimension = 'connector' and c.key = ${query.connector}))`);
  }
  if (query.staleMinutes !== undefined) {
    filters.push(sql`s.status = 'active'
                     and coalesce(s.last_event_at, s.created_at) < clock_timestamp() - make_interval(mins => ${query.staleMinutes})`);
  }
  if (query.after) {
    filters.push(sql`(s.updated_at, s.id) < (${query.after.updatedAt}::timestamptz, ${query.after.id})`);
  }
  const where = filters.length > 0 ? sql`where ${sql.join(filters, sql` and `)}` : sql``;
  // NULLS LAST spelled out: it is the index's order (plain DESC means NULLS FIRST, which the index cannot serve).
  const rows = await queryRows<Record<string, unknown>>(
    executor,
    sql`select s.* from sessions s ${where}
        order by s.updated_at desc nulls last, s.id desc nulls last limit ${query.limit + 1}`,
  );
  return rows.map(sessionFromRow);
}

export type CounterMap = Record<string, Record<string, number>>;

/** All dimension counters of one session: `{ type: {…}, role: {…}, provider: {…}, attempt: {…}, connector: {…} }`. */
export async function getCounters(executor: Executor, id: string): Promise<CounterMap> {
  const rows = await queryRows<{ dimension: string; key: string; count: number }>(
    executor,
    sql`select dimension, key, count from session_counters where session_id = ${id} order by dimension, key`,
  );
  const out: CounterMap = {};
  for (const row of rows) {
    out[row.dimension] ??= {};
    out[row.dimension]![row.key] = Number(row.count);
  }
  return out;
}

export async function liveTypeCounts(executor: Executor, id: string): Promise<Record<string, number>> {
  const rows = await queryRows<{ type: string; n: number }>(
    executor,
    sql`select type, count(*)::int as n from session_events where session_id = ${id} group by type order by type`,
  );
  return Object.fromEntries(rows.map((r) => [r.type, r.n]));
}
