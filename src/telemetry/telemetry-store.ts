import { type SQL, sql } from 'drizzle-orm';
import { type Executor, queryOne, queryRows, toIso } from '../db/database.js';

/** Which sessions a snapshot covers: updated within the window, optionally one channel / connector / provider. */
export interface TelemetryFilters {
  hours: number;
  channel?: string;
  connector?: string;
  provider?: string;
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
 * One session row (alias `s`, bounds `b`) as a roll-up row: its keys, stale flag and counts, one session. The
 * boundary hours of the roll-up read use it, so they feed `groupAggregate` the same shape as the roll-up rows.
 */
const sessionContribution = sql.raw(`s.channel,
                 case when s.connector_id is not null then 'external_webhook'
                      when s.draft_id is not null then 'live_session' else 'web' end as adapter,
                 s.status, (s.failed_step_count > 0 or s.cycle_failed_count > 0) as failed,
                 (s.status = 'active' and coalesce(s.last_event_at, s.created_at) < b.stale_before) as stale,
                 1 as sessions, (s.compact_count > 0)::int as compacted, (s.auto_compact_count > 0)::int as auto_compacted,
                 s.last_seq as events, s.step_count as steps, s.failed_step_count as failed_steps,
                 s.compact_count as compactions, s.auto_compact_count as auto_compactions, s.pruned_count_total as pruned,
                 s.attempt_success_count as attempt_success, s.attempt_failed_count as attempt_failed,
                 s.attempt_skipped_count as attempt_skipped`);

/** Sums roll-up-shaped rows `x` into one group per (channel, adapter). */
const groupAggregate = sql.raw(`select channel, adapter, sum(sessions)::bigint as total,
          coalesce(sum(sessions) filter (where status = 'active'), 0)::bigint as active,
          coalesce(sum(sessions) filter (where status = 'closed'), 0)::bigint as closed,
          coalesce(sum(sessions) filter (where stale or failed), 0)::bigint as attention,
          coalesce(sum(sessions) filter (where stale), 0)::bigint as stale,
          sum(compacted)::bigint as compacted,
          sum(auto_compacted)::bigint as auto_compacted,
          coalesce(sum(sessions) filter (where failed), 0)::bigint as failed,
          sum(events)::bigint as events,
          sum(steps)::bigint as step_events,
          sum(failed_steps)::bigint as failed_step_events,
          sum(compactions)::bigint as compactions,
          sum(auto_compactions)::bigint as auto_compactions,
          sum(pruned)::bigint as pruned,
          sum(attempt_success)::bigint as attempt_success,
          sum(attempt_failed)::bigint as attempt_failed,
          sum(attempt_skipped)::bigint as attempt_skipped
        from x group by channel, adapter having sum(sessions) > 0`);

/** A grouped row (snake_case counts, as `groupAggregate` names them) as a `SessionGroup`. */
export function groupFromRow(row: Record<string, unknown>): SessionGroup {
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
}

/**
 * Window boundaries of a roll-up read. Roll-up rows are keyed by whole UTC hours, so the hour that contains the
 * window start (`w`) and the hour that contains the stale cut-off (`sh`) are only partly in; those sessions are read
 * from the session rows themselves (at most two hours of them), everything else from the roll-ups.
 */
function bounds(hours: number, staleMinutes: number): SQL {
  return sql`select now() - make_interval(hours => ${hours}) as t0,
      date_trunc('hour', now() - make_interval(hours => ${hours}), 'UTC') as w,
      now() - make_interval(mins => ${staleMinutes}) as stale_before,
      date_trunc('hour', now() - make_interval(mins => ${staleMinutes}), 'UTC') as sh`;
}

function keyFilters(filters: TelemetryFilters, alias: string): SQL {
  const t = sql.raw(alias);
  const parts: SQL[] = [];
  if (filters.channel) parts.push(sql` and ${t}.channel = ${filters.channel}`);
  if (filters.connector) parts.push(sql` and ${t}.connector_id = ${filters.connector}`);
  return sql.join(parts, sql``);
}

/**
 * Every session, event and attempt number of a snapshot, grouped by channel and adapter (callers sum the groups
 * for totals): the roll-up rows (plus deltas not folded yet) of the whole hours inside the window, and the session
 * rows of the two boundary hours. The cost follows hours × channels × connectors, not the number of sessions.
 * With a provider filter, the same from the per-provider roll-ups (sessions that used that provider).
 */
export async function sessionGroups(
  executor: Executor,
  filters: TelemetryFilters,
  staleMinutes: number,
): Promise<SessionGroup[]> {
  // A provider filter reads the per-provider copy of the roll-ups and the sessions whose `providers` hold it.
  const source = filters.provider
    ? sql`(select * from telemetry_provider_session_rollups union all select * from telemetry_provider_session_deltas)`
    : sql`(select * from telemetry_session_rollups union all select * from telemetry_session_deltas)`;
  const keys = filters.provider
    ? sql`${keyFilters(filters, 'r')} and r.provider = ${filters.provider}`
    : keyFilters(filters, 'r');
  const edgeFilters = filters.provider
    ? sql`${keyFilters(filters, 's')} and ${filters.provider} = any (s.providers)`
    : keyFilters(filters, 's');
  const rows = await queryRows<Record<string, unknown>>(
    executor,
    sql`with b as (${bounds(filters.hours, staleMinutes)}),
        rolled as (
          select r.channel, r.adapter, r.status, r.failed, (r.status = 'active' and r.activity_hour < b.sh) as stale,
                 r.sessions, r.compacted, r.auto_compacted, r.events, r.steps, r.failed_steps, r.compactions,
                 r.auto_compactions, r.pruned, r.attempt_success, r.attempt_failed, r.attempt_skipped
          from ${source} r, b
          where r.updated_hour > b.w and not (r.status = 'active' and r.activity_hour = b.sh)${keys}
        ),
        edge as (
          select ${sessionContribution}
          from sessions s, b
          where ((s.updated_at >= b.t0 and s.updated_at < b.w + interval '1 hour')
              or (s.updated_at >= b.w + interval '1 hour' and s.status = 'active'
                  and coalesce(s.last_event_at, s.created_at) >= b.sh
                  and coalesce(s.last_event_at, s.created_at) < b.sh + interval '1 hour'))${edgeFilters}
        ),
        x as (select * from rolled union all select * from edge)
        ${groupAggregate}`,
  );
  return rows.map(groupFromRow);
}

/** Moves pending roll-up deltas into the roll-up rows; -1 when another caller is folding right now. */
export async function foldTelemetry(executor: Executor): Promise<number> {
  const row = await queryOne<{ folded: number }>(executor, sql`select agw_fold_telemetry() as folded`);
  return Number(row?.folded ?? 0);
}

/**
 * Events answered per provider over the window's sessions, with how many sessions: the provider roll-ups of the
 * whole hours in the window plus the counters of the boundary hour's sessions. A provider filter keeps that
 * provider's row.
 */
export async function providerUsage(
  executor: Executor,
  filters: TelemetryFilters,
  limit: number,
): Promise<{ provider: string; events: number; sessions: number }[]> {
  const rows = await queryRows<{ key: string; count: number; sessions: number }>(
    executor,
    sql`with b as (${bounds(filters.hours, 0)}),
        x as (
          select r.provider, r.sessions, r.events
          from (select * from telemetry_provider_rollups union all select * from telemetry_provider_deltas) r, b
          where r.updated_hour > b.w${keyFilters(filters, 'r')}${filters.provider ? sql` and r.provider = ${filters.provider}` : sql``}
          union all
          select c.key, 1, c.count from session_counters c join sessions s on s.id = c.session_id, b
          where c.dimension = 'provider' and s.updated_at >= b.t0 and s.updated_at < b.w + interval '1 hour'${keyFilters(filters, 's')}${filters.provider ? sql` and c.key = ${filters.provider}` : sql``}
        )
        select provider as key, sum(events)::bigint as count, sum(sessions)::bigint as sessions
        from x group by provider having sum(sessions) > 0 order by count desc, key limit ${limit}`,
  );
  return rows.map((r) => ({ provider: r.key, events: Number(r.count), sessions: Number(r.sessions) }));
}

/**
 * Compactions per UTC hour of the window, from the compaction rows (which carry their session's channel and
 * connector). A compaction inside the window always belongs to a session in the window: it moves `updated_at`.
 */
export async function compactionsByHour(
  executor: Executor,
  filters: TelemetryFilters,
): Promise<{ hour: string; compactions: number; autoCompactions: number; prunedEvents: number }[]> {
  const rows = await queryRows<Record<string, unknown>>(
    executor,
    sql`select to_char(date_trunc('hour', c.created_at at time zone 'UTC'), 'YYYY-MM-DD"T"HH24:00:00.000"Z"') as hour,
          count(*)::int as compactions,
          count(*) filter (where c.automatic)::int as auto_compactions, coalesce(sum(c.pruned_count), 0)::bigint as pruned
        from session_compactions c
        where c.created_at >= date_trunc('hour', now() at time zone 'UTC') at time zone 'UTC'
                             - make_interval(hours => ${filters.hours - 1})${keyFilters(filters, 'c')}${
                               filters.provider
                                 ? sql` and exists (select 1 from session_counters pc where pc.session_id = c.session_id
                                          and pc.dimension = 'provider' and pc.key = ${filters.provider})`
                                 : sql``
                             }
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
