import { describe, expect, it } from 'vitest';
import { type RuntimeHealthInput, runtimeLevel } from '../../src/console/runtime-level.js';
import { SseParser } from '../../src/console/sse-parser.js';
import { compactionTrend, connectors, profiles, usage } from '../../src/console/telemetry-shape.js';
import { telemetrySnapshot } from './telemetry-fake.js';

function health(summary: Partial<RuntimeHealthInput['summary']>, blocked: string[] = []): RuntimeHealthInput {
  return {
    summary: {
      roleCount: 4,
      providerCount: 4,
      rolesBlocked: blocked.length,
      providersCoolingDown: 0,
      providersReady: 4,
      coolingDownShare: 0,
      deterministicProviders: 0,
      health: blocked.length ? 'degraded' : 'ok',
      ...summary,
    },
    roleStates: ['author', 'critic', 'maker', 'judge'].map((role) => ({
      role,
      hasAvailableProvider: !blocked.includes(role),
    })),
  };
}

describe('Runtime badge (runbook SLO checks)', () => {
  it('healthy while every role has a provider and at most half the pool cools down', () => {
    expect(runtimeLevel(health({})).level).toBe('healthy');
    expect(runtimeLevel(health({ providersCoolingDown: 2, coolingDownShare: 0.5 })).level).toBe('healthy');
  });

  it('watch when more than half the pool cools down or the circuit store fails', () => {
    const cooling = runtimeLevel(health({ providersCoolingDown: 3, coolingDownShare: 0.75 }));
    expect(cooling.level).toBe('watch');
    expect(cooling.reasons.join()).toContain('3 of 4 providers cooling down');
    expect(runtimeLevel({ ...health({}), circuitStoreError: 'ECONNREFUSED' }).level).toBe('watch');
  });

  it('critical when a role is blocked (summary.health = degraded), naming the role', () => {
    const result = runtimeLevel(health({ providersCoolingDown: 4, coolingDownShare: 1 }, ['judge']));
    expect(result.level).toBe('critical');
    expect(result.reasons[0]).toContain('1 role blocked (judge)');
  });
});

describe('telemetry snapshot reading', () => {
  it('reads the SPEC-shaped snapshot the fake serves', () => {
    expect(compactionTrend(telemetrySnapshot)).toEqual([
      { label: '20:00', hour: '2026-11-27T20:00:00.000Z', auto: 1, manual: 1 },
      { label: '21:00', hour: '2026-11-27T21:00:00.000Z', auto: 3, manual: 0 },
      { label: '22:00', hour: '2026-11-27T22:00:00.000Z', auto: 0, manual: 2 },
    ]);
    expect(usage(telemetrySnapshot.providerUsage, 'provider')[0]).toEqual({
      label: 'openai-main',
      value: 120,
    });
    const rows = connectors(telemetrySnapshot);
    expect(rows.find((c) => c.connectorId === 'telegram_main')).toMatchObject({
      accepted: 40,
      rejected: 3,
      riskLevel: 'standard',
      rejectCodes: [['AGENT_GATEWAY_INGEST_SIGNATURE_INVALID', 3]],
    });
    expect(rows.find((c) => c.connectorId === 'discord_main')?.riskLevel).toBe('restricted');
    expect(profiles(telemetrySnapshot).find((p) => p.connectorId === 'slack_main')).toMatchObject({
      channel: 'slack',
      adapter: '',
    });
  });

  it('accepts lists or maps for the parts SPEC leaves open', () => {
    expect(usage({ a: 2, b: 5, total: 7 }, 'provider')).toEqual([
      { label: 'b', value: 5 },
      { label: 'a', value: 2 },
    ]);
    expect(usage([{ channel: 'web', sessions: 3 }], 'channel')).toEqual([{ label: 'web', value: 3 }]);
    const trend = compactionTrend({
      ...telemetrySnapshot,
      events: { compactionHourlyTrend: { '2026-11-27T05:00:00.000Z': 4 } },
    });
    expect(trend).toEqual([{ label: '05:00', hour: '2026-11-27T05:00:00.000Z', auto: 0, manual: 4 }]);
    const wrapped = connectors({
      ...telemetrySnapshot,
      ingestConnectors: { total: 1, connectors: { web_main: { accepted: 1, rejected: 0 } } },
      connectorPolicies: { web_main: { riskLevel: 'trusted' } },
    });
    expect(wrapped).toEqual([
      {
        connectorId: 'web_main',
        channel: null,
        accepted: 1,
        replayed: 0,
        rejected: 0,
        riskLevel: 'trusted',
        rejectCodes: [],
      },
    ]);
  });
});

describe('SSE parser (console live stream)', () => {
  it('parses split chunks, CRLF, comments, multi-line data and retry', () => {
    const parser = new SseParser();
    expect(parser.push('retry: 2000\n: session ags-x\n\nid: 1\nevent: no')).toEqual([]);
    expect(parser.push('te\r\ndata: {"a":\ndata: 1}\n\n: heartbeat\n\nid: 2\ndata: x\n\n')).toEqual([
      { id: '1', event: 'note', data: '{"a":\n1}' },
      { id: '2', event: 'message', data: 'x' },
    ]);
    expect(parser.retryMs).toBe(2000);
  });
});
