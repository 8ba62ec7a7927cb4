import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRequest, startTestGateway, TEST_TOKENS, type TestGateway } from '../helpers/test-gateway.js';

const TELEMETRY = '/api/admin/agent-gateway/telemetry';
const ADAPTERS = '/api/admin/agent-gateway/adapters';

function step(role: string, statuses: string[], failed = false) {
  return {
    fromRole: role,
    toRole: 'author',
    type: `draft_cycle_${role}_completed`,
    payload: {
      selectedProvider: 'p1',
      failed,
      attempts: statuses.map((status) => ({ provider: 'p1', status })),
    },
  };
}

const note = { fromRole: 'author', type: 'note', payload: { text: 'hi' } };

/**
 * A fixed scenario with hand-computed expectations:
 * s1 alpha web      3 steps (attempts success; failed+success; skipped_cooldown+success), closed → 4 events
 * s2 alpha web      1 failed step (failed, failed) → attention
 * s3 beta  web      3 notes, manual compaction keepRecent 1 (prunes 2) → 4 events
 * s4 beta  web      6 notes → auto compaction at the 6th (trigger 5, keep 2: prunes 4) → 7 events
 * s5 gamma webhook  1 note (connector conn1), last event 20 min ago → stale → attention
 * s6 alpha web      1 note, last activity 30 h ago → outside a 24 h window
 * s7 alpha live     1 note (draft session)
 */
describe('telemetry and adapters snapshots (SPEC §8)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({
      env: { AGENT_GATEWAY_AUTO_COMPACT_TRIGGER: '5', AGENT_GATEWAY_AUTO_COMPACT_KEEP_RECENT: '2' },
    });
    const sessions = t.gateway.sessions;
    const create = async (channel: string, extra: { connectorId?: string; draftId?: string } = {}) =>
      (await sessions.create({ channel, ...extra })).session.id;
    const s1 = await create('alpha');
    await sessions.append(s1, step('critic', ['success']));
    await sessions.append(s1, step('maker', ['failed', 'success']));
    await sessions.append(s1, step('judge', ['skipped_cooldown', 'success']));
    await sessions.close(s1);
    const s2 = await create('alpha');
    await sessions.append(s2, step('critic', ['failed', 'failed'], true));
    const s3 = await create('beta');
    for (let i = 0; i < 3; i++) await sessions.append(s3, note);
    await sessions.compact(s3, 1);
    const s4 = await create('beta');
    for (let i = 0; i < 6; i++) await sessions.append(s4, note);
    const s5 = await create('gamma', { connectorId: 'conn1' });
    await sessions.append(s5, note);
    const s6 = await create('alpha');
    await sessions.append(s6, note);
    const s7 = await create('alpha', { draftId: randomUUID() });
    await sessions.append(s7, note);
    const orm = t.gateway.database.orm;
    await orm.execute(
      sql`update sessions set last_event_at = clock_timestamp() - interval '20 minutes' where id = ${s5}`,
    );
    await orm.execute(
      sql`update sessions set updated_at = clock_timestamp() - interval '30 hours',
            last_event_at = clock_timestamp() - interval '30 hours' where id = ${s6}`,
    );
  });
  afterAll(async () => t?.close());

  it('computes every number, rate and level of the fixed scenario', async () => {
    const res = await adminRequest(t, 'GET', `${TELEMETRY}?hours=24&limit=200`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      windowHours: 24,
      sampleLimit: 200,
      filters: { channel: null, provider: null, connector: null },
      sessions: {
        total: 6,
        active: 5,
        closed: 1,
        attention: 2,
        compacted: 2,
        autoCompacted: 1,
        stale: 1,
        attentionRate: 0.333,
        compactionRate: 0.333,
        autoCompactedRate: 0.167,
      },
      events: {
        total: 18,
        draftCycleStepEvents: 4,
        failedStepEvents: 1,
        compactionEvents: 2,
        autoCompactionEvents: 1,
        manualCompactionEvents: 1,
        autoCompactionShare: 0.5,
        prunedEventCount: 6,
        failedStepRate: 0.25,
      },
      attempts: {
        total: 7,
        success: 3,
        failed: 3,
        skippedCooldown: 1,
        successRate: 0.429,
        failureRate: 0.429,
        skippedRate: 0.143,
      },
      health: {
        level: 'critical',
        failedStepLevel: 'watch',
        runtimeSuccessLevel: 'critical',
        cooldownSkipLevel: 'healthy',
        autoCompactionLevel: 'watch',
      },
      thresholds: {
        autoCompactionShare: { watch: 0.5, critical: 0.8 },
        failedStepRate: { watch: 0.25, critical: 0.5 },
        runtimeSuccessRate: { watch: 0.75, critical: 0.5 },
        cooldownSkipRate: { watch: 0.2, critical: 0.4 },
      },
      providerUsage: [{ provider: 'p1', events: 4, sessions: 2 }],
      channelUsage: [
        { channel: 'alpha', sessions: 3, events: 6 },
        { channel: 'beta', sessions: 2, events: 11 },
        { channel: 'gamma', sessions: 1, events: 1 },
      ],
      adapters: {
        total: 6,
        success: 5,
        failed: 1,
        errorRate: 0.167,
        level: 'critical',
        errorBudget: {
          allowedErrorRate: 0.05,
          allowedFailures: 0,
          failures: 1,
          remaining: -1,
          consumed: null,
        },
        registry: ['web', 'live_session', 'external_webhook'],
        usage: [
          { adapter: 'web', total: 4, success: 3, failed: 1, errorRate: 0.25, level: 'critical' },
          { adapter: 'live_session', total: 1, success: 1, failed: 0, errorRate: 0, level: 'healthy' },
          { adapter: 'external_webhook', total: 1, success: 1, failed: 0, errorRate: 0, level: 'healthy' },
        ],
      },
    });
    const trend = body.events.compactionHourlyTrend as {
      hour: string;
      compactions: number;
      autoCompactions: number;
      manualCompactions: number;
      prunedEvents: number;
    }[];
    expect(trend).toHaveLength(24);
    expect(trend.every((b) => /^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/.test(b.hour))).toBe(true);
    expect(Date.parse(trend[23]!.hour)).toBe(
      Math.floor(Date.parse(body.generatedAt) / 3_600_000) * 3_600_000,
    );
    const sum = (key: 'compactions' | 'autoCompactions' | 'manualCompactions' | 'prunedEvents') =>
      trend.reduce((total, bucket) => total + bucket[key], 0);
    expect([
      sum('compactions'),
      sum('autoCompactions'),
      sum('manualCompactions'),
      sum('prunedEvents'),
    ]).toEqual([2, 1, 1, 6]);
    // Both compactions happened moments ago: in the current hour, or the one before if the test crossed an hour.
    expect(trend.slice(0, 22).every((b) => b.compactions === 0)).toBe(true);
  });

  it('each filter narrows to exactly its sessions; the window is the last activity', async () => {
    const beta = (await adminRequest(t, 'GET', `${TELEMETRY}?channel=beta`)).json();
    expect(beta.filters).toEqual({ channel: 'beta', provider: null, connector: null });
    expect(beta.sessions).toMatchObject({ total: 2, compacted: 2, attention: 0 });
    expect(beta.events).toMatchObject({
      total: 11,
      compactionEvents: 2,
      prunedEventCount: 6,
      failedStepRate: null,
    });
    expect(beta.attempts).toMatchObject({ total: 0, successRate: null });
    expect(beta.health).toMatchObject({
      failedStepLevel: 'unknown',
      runtimeSuccessLevel: 'unknown',
      level: 'watch',
    });
    expect(beta.channelUsage).toEqual([{ channel: 'beta', sessions: 2, events: 11 }]);

    const p1 = (await adminRequest(t, 'GET', `${TELEMETRY}?provider=p1`)).json();
    expect(p1.sessions.total).toBe(2);
    expect(p1.attempts.total).toBe(7);
    expect(p1.events.compactionHourlyTrend.every((b: { compactions: number }) => b.compactions === 0)).toBe(
      true,
    );

    const conn = (await adminRequest(t, 'GET', `${TELEMETRY}?connector=conn1`)).json();
    expect(conn.sessions).toMatchObject({ total: 1, stale: 1, attention: 1 });
    expect(conn.adapters.usage[2]).toMatchObject({ adapter: 'external_webhook', total: 1 });

    const wide = (await adminRequest(t, 'GET', `${TELEMETRY}?hours=48&limit=1`)).json();
    expect(wide.sessions.total).toBe(7);
    expect(wide.events.compactionHourlyTrend).toHaveLength(48);
    expect(wide.channelUsage).toEqual([{ channel: 'alpha', sessions: 4, events: 7 }]);

    const none = (await adminRequest(t, 'GET', `${TELEMETRY}?channel=nowhere`)).json();
    expect(none.sessions).toMatchObject({ total: 0, attentionRate: null, compactionRate: null });
    expect(none.health.level).toBe('unknown');
  });

  it('adapters snapshot: the registry with zero rows, filters, ingest sections', async () => {
    const res = await adminRequest(
      t,
      'GET',
      `${ADAPTERS}?hours=24&channel=gamma`,
      undefined,
      TEST_TOKENS.read,
    );
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      windowHours: 24,
      filters: { channel: 'gamma', provider: null, connector: null },
    });
    expect(body.adapters.usage).toEqual([
      { adapter: 'web', total: 0, success: 0, failed: 0, errorRate: null, level: 'unknown' },
      { adapter: 'live_session', total: 0, success: 0, failed: 0, errorRate: null, level: 'unknown' },
      { adapter: 'external_webhook', total: 1, success: 1, failed: 0, errorRate: 0, level: 'healthy' },
    ]);
    for (const key of ['ingestConnectors', 'connectorPolicies', 'connectorProfiles'])
      expect(body).toHaveProperty(key);
  });

  it('unknown or out-of-range query → 400 ADMIN_INVALID_QUERY; no token → 401', async () => {
    for (const query of [
      'hours=0',
      'hours=721',
      'limit=0',
      'limit=1001',
      'hours=abc',
      'bogus=1',
      'channel=%20',
    ]) {
      const res = await adminRequest(t, 'GET', `${TELEMETRY}?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error, query).toBe('ADMIN_INVALID_QUERY');
    }
    const adapters = await adminRequest(t, 'GET', `${ADAPTERS}?limit=5`);
    expect(adapters.json().error).toBe('ADMIN_INVALID_QUERY');
    const anonymous = await t.gateway.app.inject({ method: 'GET', url: TELEMETRY });
    expect(anonymous.statusCode).toBe(401);
  });
});
