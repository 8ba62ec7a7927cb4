import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Executor, queryOne, queryRows } from '../../src/db/database.js';
import {
  foldTelemetry,
  groupFromRow,
  providerUsage,
  type SessionGroup,
  sessionGroups,
  type TelemetryFilters,
} from '../../src/telemetry/telemetry-store.js';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/** Deterministic pseudo-random numbers (a failing run can be replayed). */
function lcg(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

function step(provider: string, failed: boolean) {
  return {
    fromRole: 'critic',
    toRole: 'author',
    type: 'draft_cycle_critic_completed',
    payload: {
      selectedProvider: provider,
      failed,
      attempts: [
        { provider, status: failed ? 'failed' : 'success' },
        { provider: 'other', status: 'skipped_cooldown' },
      ],
    },
  };
}

const note = { fromRole: 'author', type: 'note', payload: { text: 'hi' } };

/** Minutes before now: values on both sides of the 24 h and 1 h window edges and the 15 / 45 min stale edges. */
const AGES = [
  1, 5, 14, 16, 29, 44, 46, 50, 59, 61, 75, 119, 121, 1_385, 1_430, 1_439, 1_441, 1_450, 1_500, 2_900, 40_000,
];

/**
 * The reference: the same groups computed the direct way, one pass over every session row in the window (the
 * provider filter through the provider counters), written independently of the roll-up SQL.
 */
async function sessionGroupsByScan(
  tx: Executor,
  filters: TelemetryFilters,
  staleMinutes: number,
): Promise<SessionGroup[]> {
  const rows = await queryRows<Record<string, unknown>>(
    tx,
    sql`with scope as (
          select s.channel, s.status, s.last_seq, s.step_count, s.failed_step_count, s.compact_count,
                 s.auto_compact_count, s.pruned_count_total, s.attempt_success_count, s.attempt_failed_count,
                 s.attempt_skipped_count,
                 (s.failed_step_count > 0 or s.cycle_failed_count > 0) as failed,
                 (s.status = 'active' and coalesce(s.last_event_at, s.created_at)
                    < now() - make_interval(mins => ${staleMinutes})) as stale,
                 case when s.connector_id is not null then 'external_webhook'
                      when s.draft_id is not null then 'live_session' else 'web' end as adapter
          from sessions s
          where s.updated_at >= now() - make_interval(hours => ${filters.hours})
            ${filters.channel ? sql`and s.channel = ${filters.channel}` : sql``}
            ${filters.connector ? sql`and s.connector_id = ${filters.connector}` : sql``}
            ${
              filters.provider
                ? sql`and exists (select 1 from session_counters pc where pc.session_id = s.id
                        and pc.dimension = 'provider' and pc.key = ${filters.provider})`
                : sql``
            }
        )
        select channel, adapter, count(*)::int as total,
          count(*) filter (where status = 'active')::int as active,
          count(*) filter (where status = 'closed')::int as closed,
          count(*) filter (where stale or failed)::int as attention,
          count(*) filter (where stale)::int as stale,
          count(*) filter (where compact_count > 0)::int as compacted,
          count(*) filter (where auto_compact_count > 0)::int as auto_compacted,
          count(*) filter (where failed)::int as failed,
          sum(last_seq)::bigint as events, sum(step_count)::bigint as step_events,
          sum(failed_step_count)::bigint as failed_step_events, sum(compact_count)::bigint as compactions,
          sum(auto_compact_count)::bigint as auto_compactions, sum(pruned_count_total)::bigint as pruned,
          sum(attempt_success_count)::bigint as attempt_success, sum(attempt_failed_count)::bigint as attempt_failed,
          sum(attempt_skipped_count)::bigint as attempt_skipped
        from scope group by channel, adapter`,
  );
  return rows.map(groupFromRow);
}

const sorted = (groups: SessionGroup[]) =>
  [...groups].sort((a, b) => `${a.channel}|${a.adapter}`.localeCompare(`${b.channel}|${b.adapter}`));

/**
 * The roll-up path (triggers → deltas → fold → keyed rows, plus the boundary-hour session rows) must give exactly
 * what the direct scan of every session row gives, for any window, stale cut-off and filter, folded or not.
 */
describe('telemetry roll-ups agree with the direct scan', () => {
  let t: TestGateway;
  const ids: string[] = [];
  const random = lcg(20261128);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;

  beforeAll(async () => {
    t = await startTestGateway({
      env: { AGENT_GATEWAY_AUTO_COMPACT_TRIGGER: '6', AGENT_GATEWAY_AUTO_COMPACT_KEEP_RECENT: '2' },
    });
    const sessions = t.gateway.sessions;
    for (let i = 0; i < 48; i++) {
      const kind = i % 4;
      const created = await sessions.create({
        channel: pick(['alpha', 'beta', 'gamma']),
        ...(kind === 1 ? { connectorId: pick(['conn1', 'conn2']) } : {}),
        ...(kind === 2 ? { draftId: randomUUID() } : {}),
      });
      const id = created.session.id;
      ids.push(id);
      const events = Math.floor(random() * 8);
      for (let e = 0; e < events; e++)
        await sessions.append(id, random() < 0.5 ? note : step(pick(['p1', 'p2', 'p3']), random() < 0.2));
      if (events > 2 && random() < 0.25) await sessions.compact(id, 1);
      if (random() < 0.3) await sessions.close(id);
    }
  });
  afterAll(async () => t?.close());

  /** Spreads the sessions' timestamps over the edge ages (raw updates: the triggers see them like any write). */
  async function scatter() {
    for (const id of ids) {
      const updatedAge = pick(AGES);
      const activityAge = updatedAge + pick([0, 0, 1, 30, 90]);
      await t.gateway.database.orm.execute(
        sql`update sessions set updated_at = now() - make_interval(mins => ${updatedAge}),
              last_event_at = case when last_event_at is null and ${random() < 0.5} then null
                                   else now() - make_interval(mins => ${activityAge}) end
            where id = ${id}`,
      );
    }
  }

  async function scanProviderUsage(tx: Executor, filters: TelemetryFilters) {
    const rows = await queryRows<{ key: string; count: number; sessions: number }>(
      tx,
      sql`select c.key, sum(c.count)::bigint as count, count(*)::int as sessions
          from session_counters c join sessions s on s.id = c.session_id
          where c.dimension = 'provider' and s.updated_at >= now() - make_interval(hours => ${filters.hours})
            ${filters.channel ? sql`and s.channel = ${filters.channel}` : sql``}
            ${filters.connector ? sql`and s.connector_id = ${filters.connector}` : sql``}
            ${filters.provider ? sql`and c.key = ${filters.provider}` : sql``}
          group by c.key order by count desc, c.key`,
    );
    return rows.map((r) => ({ provider: r.key, events: Number(r.count), sessions: Number(r.sessions) }));
  }

  async function expectAgreement() {
    const orm = t.gateway.database.orm;
    // One transaction: both sides read the same rows at the same `now()`.
    await t.gateway.database.transaction(async (tx) => {
      for (const hours of [1, 2, 24, 25, 720])
        for (const staleMinutes of [15, 45])
          for (const extra of [
            {},
            { channel: 'alpha' },
            { connector: 'conn1' },
            { provider: 'p1' },
            { provider: 'p2', channel: 'beta' },
          ] as const) {
            const filters: TelemetryFilters = { hours, ...extra };
            const label = JSON.stringify({ ...filters, staleMinutes });
            const viaRollups = sorted(await sessionGroups(tx, filters, staleMinutes));
            const viaScan = sorted(await sessionGroupsByScan(tx, filters, staleMinutes));
            expect(viaRollups, label).toEqual(viaScan);
          }
    });
    for (const hours of [1, 24, 720])
      for (const extra of [{}, { channel: 'beta' }, { connector: 'conn2' }, { provider: 'p3' }] as const) {
        const filters: TelemetryFilters = { hours, ...extra };
        await t.gateway.database.transaction(async (tx) => {
          expect(await providerUsage(tx, filters, 100), JSON.stringify(filters)).toEqual(
            await scanProviderUsage(tx, filters),
          );
        });
      }
    // Nothing is left half-counted: every roll-up row still has sessions in it.
    const zero = await queryOne<{ n: number }>(
      orm,
      sql`select count(*)::int as n from telemetry_session_rollups where sessions <= 0`,
    );
    expect(zero?.n).toBe(0);
    // Each session's `providers` is exactly the set of its provider counters.
    const drift = await queryOne<{ n: number }>(
      orm,
      sql`select count(*)::int as n from sessions s
          where (select coalesce(array_agg(c.key order by c.key), '{}') from session_counters c
                 where c.session_id = s.id and c.dimension = 'provider')
             <> (select coalesce(array_agg(p order by p), '{}') from unnest(s.providers) p)`,
    );
    expect(drift?.n).toBe(0);
  }

  it('after writes through the service, before any fold', async () => {
    await scatter();
    await expectAgreement();
  });

  it('after a fold (the deltas are emptied into keyed rows)', async () => {
    expect(await foldTelemetry(t.gateway.database.orm)).toBeGreaterThan(0);
    const pending = await queryOne<{ n: number }>(
      t.gateway.database.orm,
      sql`select (select count(*) from telemetry_session_deltas) + (select count(*) from telemetry_provider_deltas) as n`,
    );
    expect(Number(pending?.n)).toBe(0);
    await expectAgreement();
  });

  it('sessions moving between hours, closing and failing, half folded', async () => {
    const sessions = t.gateway.sessions;
    for (const id of ids.slice(0, 24)) {
      const status = await queryOne<{ status: string }>(
        t.gateway.database.orm,
        sql`select status from sessions where id = ${id}`,
      );
      if (status?.status !== 'active') continue;
      await sessions.append(id, step(pick(['p1', 'p4']), random() < 0.5));
      if (random() < 0.3) await sessions.close(id);
    }
    await expectAgreement();
    await foldTelemetry(t.gateway.database.orm);
    await scatter();
    await expectAgreement();
    await foldTelemetry(t.gateway.database.orm);
    await expectAgreement();
  });

  it('draft cycles (a session and its counters created by one statement, steps group-committed)', async () => {
    const draft = await adminRequest(t, 'POST', '/api/admin/drafts', {
      title: 'Rollups',
      body: 'Check the sums.',
    });
    expect(draft.statusCode).toBe(201);
    const draftId = draft.json().draft.id;
    const runs = await Promise.all(
      [0, 1, 2, 3].map(() => adminRequest(t, 'POST', '/api/admin/agent-gateway/orchestrate', { draftId })),
    );
    for (const run of runs) expect(run.statusCode).toBe(201);
    for (const run of runs) ids.push(run.json().sessionId);
    const providers = await queryOne<{ n: number }>(
      t.gateway.database.orm,
      sql`select count(*)::int as n from session_counters
          where dimension = 'provider' and session_id in (${sql.join(
            runs.map((r) => sql`${r.json().sessionId as string}`),
            sql`, `,
          )})`,
    );
    expect(providers?.n).toBeGreaterThan(0);
    await expectAgreement();
  });

  it('concurrent appends racing folds end exactly right', async () => {
    const sessions = t.gateway.sessions;
    const orm = t.gateway.database.orm;
    const fresh: string[] = [];
    for (let i = 0; i < 8; i++) fresh.push((await sessions.create({ channel: 'race' })).session.id);
    let folding = true;
    const folder = (async () => {
      while (folding) await foldTelemetry(orm);
    })();
    await Promise.all(
      fresh.map(async (id, i) => {
        for (let e = 0; e < 15; e++) await sessions.append(id, step(`p${(i + e) % 3}`, e % 7 === 0));
      }),
    );
    folding = false;
    await folder;
    ids.push(...fresh);
    await expectAgreement();
    await foldTelemetry(orm);
    await expectAgreement();
    const race = (await sessionGroups(orm, { hours: 1, channel: 'race' }, 15))[0];
    expect(race?.total).toBe(8);
    // 15 appends each, plus the `session_compacted` events of the automatic compactions (trigger 6).
    const seqs = await queryOne<{ n: number; compactions: number }>(
      orm,
      sql`select sum(last_seq)::int as n, sum(auto_compact_count)::int as compactions from sessions where channel = 'race'`,
    );
    expect(seqs?.n).toBe(8 * 15 + Number(seqs?.compactions));
    expect(Number(seqs?.compactions)).toBeGreaterThan(0);
    expect(race?.events).toBe(seqs?.n);
    expect(race?.autoCompactions).toBe(seqs?.compactions);
  });
});
