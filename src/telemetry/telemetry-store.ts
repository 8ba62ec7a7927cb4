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
  const parts: SQL[] = [sql`${s}.updated_at >= now() - make_interval(hours => ${filters.hours})`];
  if (filters.channel) parts.push(sql`${s}.channel = ${filters.channel}`);
  if (filters.connector) parts.push(sql`${s}.connector_id = ${filters.connector}`);
  if (filters.provider)
    parts.push(
      sql`exists (select 1 from session_counters pc where pc.session_id = ${s}.id and pc.dimension = 'provider' and pc.key = ${filters.provider})`,
    );
  return sql.join(parts, sql` and `);
}

export interface SessionCounts {
  total: number;
  active: number;
  closed: number;
  attention: number;
  stale: number;
  compacted: number;
  autoCompacted: number;
  failed: number;
  events: number;
  stepEvents: number;
  failedStepEvents: number;
  compactions: number;
  autoCompactions: number;
  pruned: number;
  attemptSuccess: number;
  attemptFailed: number;
  attemptSkipped: number;
}

export type Adapter = 'web' | 'live_session' | 'external_webhook';

export interface SessionGroup extends SessionCounts {
  channel: string;
  /** How the sessions came in: a connector (ingest), a draft cycle, or the sessions API. */
  adapter: Adapter;
}

const countKeys: (keyof SessionCounts)[] = [
  'total',
  'active',
  'closed',
  'attention',
  'stale',
  'compacted',
  'autoCompacted',
  'failed',
  'events',
  'stepEvents',
  'failedStepEvents',
  'compactions',
  'autoCompactions',
  'pruned',
  'attemptSuccess',
  'attemptFailed',
  'attemptSkipped',
];

/** Sums session groups (every count is additive). */
export function sumCounts(groups: SessionCounts[]): SessionCounts {
  const total = Object.fromEntries(countKeys.map((k) => [k, 0])) as unknown as SessionCounts;
  for (const group of groups) for (const key of countKeys) total[key] += group[key];
  return total;
}

/**
 * Every session, event and attempt number of a snapshot in ONE pass over the window's session rows, grouped by
 * channel and adapter (callers sum the groups for totals). Reads only roll-up columns kept on append, all of them
 * in `sessions_telemetry_idx`, so PostgreSQL can answer from the index alone.
 */
export async function sessionGroups(
  executor: Executor,
  filters: TelemetryFilters,
  staleMinutes: number,
): Promise<SessionGroup[]> {
  const rows = await queryRows<Record<string, unknown>>(
    executor,
    sql`with scope as (
          select s.channel, s.status, s.last_seq, s.step_count, s.failed_step_count, s.compact_count,
                 s.auto_compact_count, s.pruned_count_total, s.attempt_success_count, s.attempt_failed_count,
                 s.attempt_skipped_count,
                 (s.failed_step_count > 0 or s.cycle_failed_count > 0) as failed,
                 (s.status = 'active' and coalesce(s.last_event_at, s.created_at)
                    < now() - make_interval(mins => ${staleMinutes})) as stale,
                 case when s.connector_id is not null then 'external_webhook'
                      when s.draft_id is not null then 'live_session' else 'web' end as adapter
          from sessions s where ${sessionScope(filters)}
        )
        select channel, adapter, count(*)::int as total,
          count(*) filter (where status = 'active')::int as active,
          count(*) filter (where status = 'closed')::int as closed,
          count(*) filter (where stale or failed)::int as attention,
          count(*) filter (where stale)::int as stale,
          count(*) filter (where compact_count > 0)::int as compacted,
          count(*) filter (where auto_compact_count > 0)::int as auto_compacted,
          count(*) filter (where failed)::int as failed,
          sum(last_seq)::bigint as events,
          sum(step_count)::bigint as step_events,
          sum(failed_step_count)::bigint as failed_step_events,
          sum(compact_count)::bigint as compactions,
          sum(auto_compact_count)::bigint as auto_compactions,
          sum(pruned_count_total)::bigint as pruned,
          sum(attempt_success_count)::bigint as attempt_success,
          sum(attempt_failed_count)::bigint as attempt_failed,
          sum(attempt_skipped_count)::bigint as attempt_skipped
        from scope group by channel, adapter`,
  );
  return rows.map((row) => {
    const n = (key: string) => Number(row[key] ?? 0);
    return {
      channel: row.channel as string,
      adapter: row.adapter as Adapter,
      total: n('total'),
      active: n('active'),
      closed: n('closed'),
      attention: n('attention'),
      stale: n('stale'),
      compacted: n('compacted'),
      autoCompacted: n('auto_compacted'),
      failed: n('failed'),
      events: n('events'),
      stepEvents: n('step_events'),
      failedStepEvents: n('failed_step_events'),
      compactions: n('compactions'),
      autoCompactions: n('auto_compactions'),
      pruned: n('pruned'),
      attemptSuccess: n('attempt_success'),
      attemptFailed: n('attempt_failed'),
      attemptSkipped: n('attempt_skipped'),
    };
  });
}

/** Events answered per provider over the window's sessions (the provider counters), with how many sessions. */
export async function providerUsage(
  executor: Executor,
  filters: TelemetryFilters,
  limit: number,
): Promise<{ provider: string; events: number; sessions: number }[]> {
  const rows = await queryRows<{ key: string; count: number; sessions: number }>(
    executor,
    sql`select c.key, sum(c.count)::bigint as count, count(*)::int as sessions
        from session_counters c join sessions s on s.id = c.session_id
        where c.dimension = 'provider' and ${sessionScope(filters)}
        group by c.key order by count desc, c.key limit ${limit}`,
  );
  return rows.map((r) => ({ provider: r.key, events: Number(r.count), sessions: Number(r.sessions) }));
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
        where c.created_at >= date_trunc('hour', now() at time zone 'UTC') at time zone 'UTC'
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
          count(*) filter (where coalesce(last_event_at, created_at) < now() - make_interval(mins => ${staleMinutes}))::int as stale
        from sessions where status = 'active'`,
  );
  return { active: Number(row?.active ?? 0), stale: Number(row?.stale ?? 0) };
}
