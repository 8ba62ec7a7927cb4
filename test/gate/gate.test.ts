import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routingRow } from '../../src/cli/gate/failure-modes.js';
import { childEnv, run } from '../helpers/processes.js';
import { adminRequest, startTestGateway, TEST_TOKENS, type TestGateway } from '../helpers/test-gateway.js';
import {
  expectValidArtifacts,
  type GateRun,
  runGate,
  startGateTarget,
  startRouteProxy,
  WEBHOOK_SECRET,
} from './gate-support.js';

const WRONG_SECRET = 'not-the-webhook-secret-0123456789';
const WRONG_TOKEN = 'not-an-admin-token-0123456789abcdef';

/** Every probe session the gate reported, with whether the gateway now has it closed. */
async function probeSessionStates(t: TestGateway, gate: GateRun): Promise<Record<string, string>> {
  const ids = [
    gate.summary.checks.orchestration?.details?.sessionId,
    gate.summary.checks.ingestProbe?.details?.sessionId,
    ...gate.traces.channels.map((c) => c.steps.ingest?.sessionId),
  ].filter((id): id is string => typeof id === 'string');
  const states: Record<string, string> = {};
  for (const id of ids) {
    const res = await adminRequest(t, 'GET', `/api/admin/agent-gateway/sessions/${id}?limit=1`);
    states[id] = res.json().session.status;
  }
  return states;
}

/** No secret appears anywhere the gate writes or prints. */
function expectNoSecrets(gate: GateRun, secrets: string[], extra: string[] = []): void {
  const written = readdirSync(gate.outDir).map((f) => readFileSync(join(gate.outDir, f), 'utf8'));
  for (const text of [gate.stdout, gate.stderr, ...written, ...extra]) {
    for (const secret of secrets) expect(text).not.toContain(secret);
  }
}

// Each test runs whole gates (tens of HTTP probes, telemetry polling) on a 2-core machine shared with other suites;
// nothing here asserts speed.
describe('agw gate against a healthy gateway (example profiles for telegram, slack, discord)', {
  timeout: 120_000,
}, () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startGateTarget();
  });
  afterAll(async () => t?.close());

  it('passes every check (env fallbacks, --flag=value), writes valid artifacts and a step summary, leaks no secret', async () => {
    const stepSummary = join(mkdtempSync(join(tmpdir(), 'agw-step-')), 'summary.md');
    await adminRequest(t, 'POST', '/api/admin/agent-gateway/sessions', {
      channel: 'web',
      externalSessionId: 'live-1',
    });
    const gate = await runGate(['--strict', '--required-external-channels=all', '--http-timeout-ms=10000'], {
      RELEASE_API_BASE_URL: t.url,
      RELEASE_ADMIN_API_TOKEN: TEST_TOKENS.admin,
      RELEASE_AGENT_GATEWAY_WEBHOOK_SECRET: WEBHOOK_SECRET,
      GITHUB_STEP_SUMMARY: stepSummary,
    });
    expect(gate.code, gate.stdout + gate.stderr).toBe(0);
    expect(gate.summary).toMatchObject({ pass: true, status: 'pass' });
    for (const [name, check] of Object.entries(gate.summary.checks)) {
      expect({ name, pass: check.pass, skipped: check.skipped, errors: check.errors }).toEqual({
        name,
        pass: true,
        skipped: false,
        errors: [],
      });
      expect(typeof check.durationMs).toBe('number');
    }
    expect(gate.summary.checks.orchestration!.details).toMatchObject({
      completed: true,
      steps: ['critic', 'maker', 'judge'],
      sessionClosed: true,
    });
    expect(gate.summary.checks.dryRun!.details.roles).toHaveLength(4);
    expect(gate.summary.checks.sessionsLookup!.details).toMatchObject({
      activeSessionsLookedUp: 1,
      activeSessionsNotFound: [],
      staleActiveSessions: 0,
    });
    expect(gate.summary.checks.ingestProbe!.details).toMatchObject({
      httpStatus: 201,
      applied: true,
      replay: { httpStatus: 200, deduplicated: true, sameSession: true },
    });
    expect(gate.summary.checks.ingestExternalChannelFallback).toMatchObject({
      configuredChannels: ['discord', 'slack', 'telegram'],
      requiredChannels: ['telegram', 'slack', 'discord'],
      missingRequiredChannels: [],
      requiredChannelsPass: true,
    });
    expect(gate.summary.checks.ingestExternalChannelFailureModes).toMatchObject({
      failedChannels: [],
      requiredFailedChannels: [],
    });
    expect(gate.traces.channels.map((c) => [c.channel, c.connectorId, c.pass])).toEqual([
      ['discord', 'discord_main', true],
      ['slack', 'slack_main', true],
      ['telegram', 'telegram_main', true],
    ]);
    for (const trace of gate.traces.channels) {
      expect(trace.resolvedExternalSessionId).toBe(trace.expectedExternalSessionId);
      expect(trace.steps.telemetry!.acceptedAfter).toBeGreaterThan(
        trace.steps.telemetry!.acceptedBefore as number,
      );
    }
    expect(gate.traces.channels[2]!.expectedExternalSessionId).toMatch(/^telegram_chat:-\d+$/);
    expectValidArtifacts(gate);
    // Probe sessions are closed afterwards.
    const states = await probeSessionStates(t, gate);
    expect(Object.keys(states)).toHaveLength(5);
    expect(new Set(Object.values(states))).toEqual(new Set(['closed']));
    const markdown = readFileSync(stepSummary, 'utf8');
    expect(markdown).toContain('| ingestExternalChannelFallback | pass |');
    expect(gate.stdout).toContain('GATE PASS');
    expectNoSecrets(gate, [TEST_TOKENS.admin, WEBHOOK_SECRET], [markdown]);
  });

  it('wrong webhook secret → ingest_http_error on every channel, routing printed, exit 1 (as a process)', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'agw-gate-proc-'));
    const res = await run(
      'node',
      [
        'dist/cli/main.js',
        'gate',
        '--api-base-url',
        t.url,
        '--skip-runtime-probes',
        '--required-external-channels',
        'telegram,slack',
        '--out-dir',
        outDir,
      ],
      childEnv({
        RELEASE_ADMIN_API_TOKEN: TEST_TOKENS.admin,
        RELEASE_AGENT_GATEWAY_WEBHOOK_SECRET: WRONG_SECRET,
        GITHUB_STEP_SUMMARY: join(outDir, 'step-summary.md'),
      }),
      60_000,
    );
    expect(res.code, res.stderr).toBe(1);
    const summary = JSON.parse(readFileSync(join(outDir, 'production-launch-gate-summary.json'), 'utf8'));
    expect(summary.checks.ingestExternalChannelFailureModes).toMatchObject({
      pass: false,
      failedChannels: [
        { channel: 'discord', connectorId: 'discord_main', failureMode: 'ingest_http_error' },
        { channel: 'slack', connectorId: 'slack_main', failureMode: 'ingest_http_error' },
        { channel: 'telegram', connectorId: 'telegram_main', failureMode: 'ingest_http_error' },
      ],
      requiredFailedChannels: ['slack', 'telegram'],
    });
    expect(summary.checks.ingestProbe.errors[0]).toContain('AGENT_GATEWAY_INGEST_SIGNATURE_INVALID');
    expect(summary.checks.dryRun).toMatchObject({
      skipped: true,
      pass: true,
      skipReason: '--skip-runtime-probes',
    });
    const row = routingRow('ingest_http_error');
    expect(res.stdout).toContain(`telegram/telegram_main: ingest_http_error`);
    expect(res.stdout).toContain(row.firstActions);
    expect(res.stdout).toContain(row.escalateTo);
    const markdown = readFileSync(join(outDir, 'step-summary.md'), 'utf8');
    expect(markdown).toContain('## Production launch gate: ❌ fail');
    expect(markdown).toContain(
      `| telegram | telegram_main | \`ingest_http_error\` | ${row.firstActions} | ${row.escalateTo} |`,
    );
    for (const text of [
      res.stdout,
      res.stderr,
      ...readdirSync(outDir).map((f) => readFileSync(join(outDir, f), 'utf8')),
    ])
      for (const secret of [WRONG_SECRET, TEST_TOKENS.admin]) expect(text).not.toContain(secret);
  });

  it('hard stop: required channels failing in two consecutive strict runs → "pause rollout", exit 1', async () => {
    const history = join(mkdtempSync(join(tmpdir(), 'agw-history-')), 'gate-history.json');
    const args = (secret: string, strict: boolean) => [
      '--api-base-url',
      t.url,
      '--admin-token',
      TEST_TOKENS.admin,
      '--webhook-secret',
      secret,
      '--skip-runtime-probes',
      '--required-external-channels',
      'telegram',
      '--history',
      history,
      ...(strict ? ['--strict'] : []),
    ];
    const first = await runGate(args(WRONG_SECRET, true));
    expect(first.code).toBe(1);
    expect(first.summary).toMatchObject({ status: 'fail', hardStop: { triggered: false } });
    const nonStrict = await runGate(args(WRONG_SECRET, false));
    expect(nonStrict.summary.hardStop.triggered).toBe(false);
    const second = await runGate(args(WRONG_SECRET, true));
    expect(second.code).toBe(1);
    expect(second.summary).toMatchObject({
      pass: false,
      status: 'pause_rollout',
      hardStop: { triggered: true },
    });
    expect(second.stdout).toMatch(
      /PAUSE ROLLOUT: required external channels failed in two consecutive strict runs/,
    );
    expectValidArtifacts(second);
    const recovered = await runGate(args(WEBHOOK_SECRET, true));
    expect(recovered.code, recovered.stdout).toBe(0);
    expect(recovered.summary.hardStop.triggered).toBe(false);
    const kept = JSON.parse(readFileSync(history, 'utf8')).runs;
    expect(
      kept.map((r: { strict: boolean; requiredFailedChannels: string[] }) => [
        r.strict,
        r.requiredFailedChannels,
      ]),
    ).toEqual([
      [true, ['telegram']],
      [false, ['telegram']],
      [true, ['telegram']],
      [true, []],
    ]);
  });

  it('transient 502/503/504 from a load balancer are retried; an existing draft is used for orchestration', async () => {
    const draft = await adminRequest(t, 'POST', '/api/admin/drafts', {
      title: 'Release probe',
      body: 'Probe.',
    });
    const draftId = draft.json().draft.id as string;
    const hits = new Map<string, number>();
    const proxy = await startRouteProxy(
      () => t.url,
      (path) => {
        const key = path.split('?')[0]!;
        const n = (hits.get(key) ?? 0) + 1;
        hits.set(key, n);
        if (key === '/health' && n === 1) return 503;
        if (key === '/ready' && n <= 2) return n === 1 ? 502 : 504;
        if (key === '/api/admin/ai-runtime/health') return 503; // never recovers
        return null;
      },
    );
    try {
      const gate = await runGate([
        ...[
          '--api-base-url',
          proxy.url,
          '--admin-token',
          TEST_TOKENS.admin,
          '--webhook-secret',
          WEBHOOK_SECRET,
        ],
        ...['--runtime-draft-id', draftId],
      ]);
      expect(gate.code).toBe(1);
      expect(gate.summary.checks.health).toMatchObject({ pass: true, details: { attempts: 2 } });
      expect(gate.summary.checks.ready).toMatchObject({ pass: true, details: { attempts: 3 } });
      expect(gate.summary.checks.runtimeHealth!.pass).toBe(false);
      expect(hits.get('/api/admin/ai-runtime/health')).toBe(3);
      expect(gate.summary.checks.orchestration).toMatchObject({
        pass: true,
        details: { draftId, draftCreated: false, completed: true },
      });
      expect(gate.summary.checks.ingestExternalChannelFallback!.pass).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('--require-live-providers fails a deployment still on deterministic providers', async () => {
    const gate = await runGate([
      ...['--api-base-url', t.url, '--admin-token', TEST_TOKENS.admin, '--skip-ingest-probe'],
      '--require-live-providers',
    ]);
    expect(gate.code).toBe(1);
    expect(gate.summary.checks.runtimeHealth!.errors[0]).toMatch(
      /--require-live-providers: deterministic provider\(s\) in role chains: /,
    );
    expect(gate.summary.checks.dryRun!.errors).toHaveLength(4);
    expect(gate.summary.checks.dryRun!.errors[0]).toMatch(/^author: answered by a deterministic provider/);
    expect(gate.summary.checks.ingestProbe).toMatchObject({ skipped: true, pass: true });
  });

  it('without a webhook secret the ingest probes are skipped: fine normally, a failure in strict mode', async () => {
    const args = ['--api-base-url', t.url, '--admin-token', TEST_TOKENS.admin, '--skip-runtime-probes'];
    const lenient = await runGate(args);
    expect(lenient.code, lenient.stdout).toBe(0);
    expect(lenient.summary.checks.ingestProbe).toMatchObject({ skipped: true, pass: true });
    expect(lenient.summary.checks.ingestExternalChannelFallback).toMatchObject({ skipped: true, pass: true });
    const strict = await runGate([...args, '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.summary.checks.ingestProbe).toMatchObject({ skipped: true, pass: false });
    expect(strict.summary.checks.ingestProbe!.errors[0]).toMatch(
      /^skipped in strict mode: no webhook secret/,
    );
    expect(strict.summary.checks.dryRun).toMatchObject({ skipped: true, pass: true });
    expectValidArtifacts(strict);
  });

  it('an admin token the gateway refuses → required channels still probed, classified sessions_lookup_error', async () => {
    const gate = await runGate([
      '--api-base-url',
      t.url,
      '--admin-token',
      WRONG_TOKEN,
      '--webhook-secret',
      WEBHOOK_SECRET,
      '--required-external-channels',
      'telegram',
      '--json',
      '--failure-detail-max-items',
      '2',
    ]);
    expect(gate.code).toBe(1);
    expect(JSON.parse(gate.stdout).status).toBe('fail');
    // Four roles failed; the summary keeps two.
    expect(gate.summary.checks.dryRun!.errors).toHaveLength(2);
    expect(gate.summary.checks.dryRun!.errors[0]).toContain('author: HTTP 401 ADMIN_TOKEN_INVALID');
    expect(gate.summary.checks.health!.pass).toBe(true);
    expect(gate.summary.checks.runtimeHealth!.errors[0]).toContain('ADMIN_TOKEN_INVALID');
    expect(gate.summary.checks.ingestExternalChannelFailureModes).toMatchObject({
      failedChannels: [
        { channel: 'telegram', connectorId: 'telegram_main', failureMode: 'sessions_lookup_error' },
      ],
      requiredFailedChannels: ['telegram'],
    });
    const trace = gate.traces.channels[0]!;
    expect(trace.steps.sessionLookup).toMatchObject({ httpStatus: 401, errorCode: 'ADMIN_TOKEN_INVALID' });
    expect(gate.stderr).toContain(routingRow('sessions_lookup_error').firstActions);
    expectValidArtifacts(gate);
    expectNoSecrets(gate, [WRONG_TOKEN, WEBHOOK_SECRET]);
    // The gate could not close its probe session with that token; the operator can.
    const sessionId = trace.steps.ingest!.sessionId as string;
    expect(trace.steps.cleanup).toMatchObject({ closed: false, httpStatus: 401 });
    expect(
      (await adminRequest(t, 'POST', `/api/admin/agent-gateway/sessions/${sessionId}/close`)).statusCode,
    ).toBe(200);
  });
});

describe('agw gate against a gateway with orchestration switched off', { timeout: 120_000 }, () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ listen: true, env: { AGENT_ORCHESTRATION_ENABLED: 'false' } });
  });
  afterAll(async () => t?.close());

  it('records the orchestration probe as failed (503 retried, then reported) and still runs every other check', async () => {
    const gate = await runGate(['--api-base-url', t.url, '--admin-token', TEST_TOKENS.admin]);
    expect(gate.code).toBe(1);
    expect(gate.summary.checks.orchestration).toMatchObject({
      pass: false,
      details: { httpStatus: 503, attempts: 3 },
    });
    expect(gate.summary.checks.orchestration!.errors[0]).toContain('AGENT_ORCHESTRATION_DISABLED');
    for (const name of [
      'health',
      'ready',
      'runtimeHealth',
      'dryRun',
      'sessionsLookup',
      'telemetry',
      'adapters',
    ])
      expect(gate.summary.checks[name]!.pass, name).toBe(true);
    expect(gate.stdout).toMatch(/^orchestration\s+FAIL/m);
    expectValidArtifacts(gate);
  });

  it('stale active sessions: abnormal growth since the previous run in --history fails the sessions lookup', async () => {
    const history = join(mkdtempSync(join(tmpdir(), 'agw-stale-')), 'history.json');
    writeFileSync(
      history,
      JSON.stringify({
        runs: [
          {
            runId: 'rg-earlier',
            generatedAtUtc: '2026-01-01T00:00:00Z',
            strict: false,
            pass: true,
            requiredFailedChannels: [],
            staleActiveSessions: 1,
          },
        ],
      }),
    );
    for (let i = 0; i < 12; i++) {
      const created = await adminRequest(t, 'POST', '/api/admin/agent-gateway/sessions', {
        channel: 'web',
        externalSessionId: `idle-${i}`,
      });
      const id = created.json().session.id as string;
      await t.db.database.orm.execute(
        sql`update sessions set last_event_at = clock_timestamp() - interval '20 minutes' where id = ${id}`,
      );
    }
    const args = [
      '--api-base-url',
      t.url,
      '--admin-token',
      TEST_TOKENS.admin,
      '--skip-runtime-probes',
      '--history',
      history,
    ];
    const grown = await runGate(args);
    expect(grown.summary.checks.sessionsLookup).toMatchObject({
      pass: false,
      details: { staleActiveSessions: 12, staleActiveSessionsPreviousRun: 1, activeSessionsNotFound: [] },
    });
    expect(grown.summary.checks.sessionsLookup!.errors[0]).toContain(
      'stale active sessions grew abnormally: 12 now, 1',
    );
    const steady = await runGate(args);
    expect(steady.summary.checks.sessionsLookup).toMatchObject({
      pass: true,
      details: { staleActiveSessions: 12, staleActiveSessionsPreviousRun: 12 },
    });
  });
});
