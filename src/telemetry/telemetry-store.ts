import { type SQL, sql } from 'drizzle-orm';
import { type Executor, queryOne, queryRows, toIso } from '../db/database.js';

/** Which sessions a snapshot covers: updated within the window, optionally one channel / connector / provider. */
export interface TelemetryFilters {
  hours: number;
  channel?: string;
  connector?: string;
  provider?: string;
}

/**
 * The window is applied to the session's last activity (`updated_at`, indexed); provider narrows to sessions with
 * at least one event answered by that provider (the per-session counters, indexed by dimension and key).
 */
function sessionScope(filters: TelemetryFilters, alias = 's'): SQL {
  const s = sql.raw(alias);
  const parts: SQL[] = [sql`${s}.updated_at >= clock_timestamp() - make_interval(hours => ${filters.hours})`];
  if (filters.channel) parts.push(sql`${s}.channel = ${filters.channel}`);
  if (filters.connector) parts.push(sql`${s}.connector_id = ${filters.connector}`);
  if (filters.provider)
    parts.push(
      sql`exists (select 1 from session_counters pc where pc.session_id = ${s}.id and pc.dimension = 'provider' and pc.key = ${filters.provider})`,
    );
  return sql.join(parts, sql` and `);
}

export interface SessionTotals {
  total: number;
  active: number;
  closed: number;
  attention: number;
  stale: number;
  compacted: number;
  autoCompacted: number;
  events: number;
  stepEvents: number;
  failedStepEvents: number;
  compactions: number;
  autoCompactions: number;
  pruned: number;
  /** Sessions by adapter (how they came in) and whether they failed (a failed step or cycle). */
  adapters: { web: [number, number]; liveSession: [number, number]; externalWebhook: [number, number] };
}

/** Every session and event number of a snapshot in one pass over the window's session rows (their roll-ups). */
export async function sessionTotals(
  executor: Executor,
  filters: TelemetryFilters,
  staleMinutes: number,
): Promise<SessionTotals> {
  const row = await queryOne<Record<string, unknown>>(
    executor,
    sql`with scope as (
          select s.*, (s.failed_step_count > 0 or s.cycle_failed_count > 0) as failed,
                 (s.status = 'active' and coalesce(s.last_event_at, s.created_at)
                    < clock_timestamp() - make_interval(mins => ${staleMinutes})) as stale,
                 case when s.connector_id is not null then 'external_webhook'
                      when s.draft_id is not null then 'live_session' else 'web' end as adapter
          from sessions s where ${sessionScope(filters)}
        )
        select count(*)::int as total,
          count(*) filter (where status = 'active')::int as active,
          count(*) filter (where status = 'closed')::int as closed,
          count(*) filter (where stale or failed)::int as attention,
          count(*) filter (where stale)::int as stale,
          count(*) filter (where compact_count > 0)::int as compacted,
          count(*) filter (where auto_compact_count > 0)::int as auto_compacted,
          coalesce(sum(last_seq), 0)::bigint as events,
          coalesce(sum(step_count), 0)::bigint as step_events,
          coalesce(sum(failed_step_count), 0)::bigint as failed_step_events,
          coalesce(sum(compact_count), 0)::bigint as compactions,
          coalesce(sum(auto_compact_count), 0)::bigint as auto_compactions,
          coalesce(sum(pruned_count_total), 0)::bigint as pruned,
          count(*) filter (where adapter = 'web')::int as web_total,
          count(*) filter (where adapter = 'web' and failed)::int as web_failed,
          count(*) filter (where adapter = 'live_session')::int as live_total,
          count(*) filter (where adapter = 'live_session' and failed)::int as live_failed,
          count(*) filter (where adapter = 'external_webhook')::int as webhook_total,
          count(*) filter (where adapter = 'external_webhook' and failed)::int as webhook_failed
        from scope`,
  );
  const n = (key: string) => Number(row?.[key] ?? 0);
  return {
    total: n('total'),
    active: n('active'),
    closed: n('closed'),
    attention: n('attention'),
    stale: n('stale'),
    compacted: n('compacted'),
    autoCompacted: n('auto_compacted'),
    events: n('events'),
    stepEvents: n('step_events'),
    failedStepEvents: n('failed_step_events'),
    compactions: n('compactions'),
    autoCompactions: n('auto_compactions'),
    pruned: n('pruned'),
    adapters: {
      web: [n('web_total'), n('web_failed')],
      liveSession: [n('live_total'), n('live_failed')],
      externalWebhook: [n('webhook_total'), n('webhook_failed')],
    },
  };
}

/** Sums of one counter dimension over the window's sessions, with how many sessions have each key. */
export async function counterUsage(
  executor: Executor,
  filters: TelemetryFilters,
  dimension: 'attempt' | 'provider',
  limit: number,
): Promise<{ key: string; count: number; sessions: number }[]> {
  const rows = await queryRows<{ key: string; count: number; sessions: number }>(
    executor,
    sql`select c.key, sum(c.count)::bigint as count, count(*)::int as sessions
        from session_counters c join sessions s on s.id = c.session_id
        where c.dimension = ${dimension} and ${sessionScope(filters)}
        group by c.key order by count desc, c.key limit ${limit}`,
  );
  return rows.map((r) => ({ key: r.key, count: Number(r.count), sessions: Number(r.sessions) }));
}

export async function channelUsage(
  executor: Executor,
  filters: TelemetryFilters,
  limit: number,
): Promise<{ channel: string; sessions: number; events: number }[]> {
  const rows = await queryRows<{ channel: string; sessions: number; events: number }>(
    executor,
    sql`select s.channel, count(*)::int as sessions, coalesce(sum(s.last_seq), 0)::bigint as events
        from sessions s where ${sessionScope(filters)}
        group by s.channel order by sessions desc, s.channel limit ${limit}`,
  );
  return rows.map((r) => ({ channel: r.channel, sessions: Number(r.sessions), events: Number(r.events) }));
}

/** Compactions per UTC hour of the window (from the compaction roll-up rows), for the window's sessions. */
export async function compactionsByHour(
  executor: Executor,
  filters: TelemetryFilters,
): Promise<{ hour: string; compactions: number; autoCompactions: number; prunedEvents: number }[]> {
  const rows = await queryRows<Record<string, unknown>>(
    executor,
    sql`select to_char(date_trunc('hour', c.created_at at time zone 'UTC'), 'YYYY-MM-DD"T"HH24:00:00.000"Z"') as hour,
          count(*)::int as compactions,
          count(*) filter (where c.automatic)::int as auto_compactions, coalesce(sum(c.pruned_count), 0)::bigint as pruned
        from session_compactions c join sessions s on s.id = c.session_id
        where c.created_at >= date_trunc('hour', clock_timestamp() at time zone 'UTC') at time zone 'UTC'
                             - make_interval(hours => ${filters.hours - 1})
          and ${sessionScope(filters)}
        group by 1 order by 1`,
  );
  return rows.map((r) => ({
    hour: String(r.hour),
    compactions: Number(r.compactions),
    autoCompactions: Number(r.auto_compactions),
    prunedEvents: Number(r.pruned),
  }));
}

/** The database's clock, so a snapshot's hour buckets and `generatedAt` agree with the rows' timestamps. */
export async function databaseNow(executor: Executor): Promise<string> {
  const row = await queryOne<{ now: unknown }>(executor, sql`select clock_timestamp() as now`);
  return toIso(row?.now) ?? new Date().toISOString();
}

/** Active and stale session counts for the metrics gauges (the status + last event index). */
export async function activeAndStale(
  executor: Executor,
  staleMinutes: number,
): Promise<{ active: number; stale: number }> {
  const row = await queryOne<{ active: number; stale: number }>(
    executor,
    sql`select count(*)::int as active,
          count(*) filter (where coalesce(last_event_at, created_at) < clock_timestamp() - make_interval(mins => ${staleMinutes}))::int as stale
        from sessions where status = 'active'`,
  );
  return { active: Number(row?.active ?? 0), stale: Number(row?.stale ?? 0) };
}
