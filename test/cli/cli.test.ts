import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, run } from '../helpers/processes.js';
import {
  adminRequest,
  COMPLETED_CYCLE_EVENT_TYPES,
  startTestGateway,
  TEST_TOKENS,
  type TestGateway,
} from '../helpers/test-gateway.js';

// Each test starts up to ten `node` processes one after another; on a loaded 2-core machine that alone took over
// 30 s (the default timeout). No assertion here is about speed.
describe('agw CLI against a running gateway (as a subprocess)', () => {
  let t: TestGateway;
  let sessionId: string;
  beforeAll(async () => {
    t = await startTestGateway({ listen: true });
    const created = await adminRequest(t, 'POST', '/api/admin/agent-gateway/sessions', {
      channel: 'cli',
      externalSessionId: 'c-1',
    });
    sessionId = created.json().session.id;
    for (let i = 0; i < 3; i++) {
      await adminRequest(t, 'POST', `/api/admin/agent-gateway/sessions/${sessionId}/events`, {
        fromRole: 'observer',
        type: 'note',
      });
    }
  });
  afterAll(async () => t?.close());

  const agw = (args: string[], extra: Record<string, string> = {}) =>
    run(
      'node',
      ['dist/cli/main.js', ...args],
      childEnv({ API_BASE_URL: t.url, ADMIN_API_TOKEN: TEST_TOKENS.admin, ...extra }),
    );

  it('health prints a readable summary and exits 0', async () => {
    const res = await agw(['health']);
    expect(res.stdout).toContain('health   200 ok');
    expect(res.stdout).toContain('ready    200 ok');
    const json = await agw(['health', '--json']);
    expect(JSON.parse(json.stdout).ready).toMatchObject({ status: 'ok' });
  });

  it('sessions list/status/summary/show/compact/close', async () => {
    const list = await agw(['sessions', 'list', '--channel', 'cli']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(sessionId);
    const listJson = await agw(['sessions', 'list', '--json', '--stale=15']);
    expect(JSON.parse(listJson.stdout).filters.staleMinutes).toBe(15);
    const status = await agw(['sessions', 'status', sessionId]);
    expect(status.stdout).toMatch(/eventCount\s+3/);
    const summary = await agw(['sessions', 'summary', sessionId, '--json']);
    expect(JSON.parse(summary.stdout).summary.byType).toEqual({ note: 3 });
    const summaryText = await agw(['sessions', 'summary', sessionId]);
    expect(summaryText.stdout).toContain(`session ${sessionId} (cli, active); last event #3 note`);
    expect(summaryText.stdout).toMatch(/^note\s+3$/m);
    expect(summaryText.stdout).toMatch(/^eventCount\s+3$/m);
    const show = await agw(['sessions', 'show', sessionId, '--json']);
    expect(JSON.parse(show.stdout).events).toHaveLength(3);
    const showText = await agw(['sessions', 'show', sessionId]);
    expect(showText.stdout).toMatch(/^SEQ\s+AT\s+FROM\s+TO\s+TYPE\s+PAYLOAD$/m);
    expect(showText.stdout).toMatch(/^3\s+\S+\s+observer\s+-\s+note\s+\{\}$/m);
    const compact = await agw(['sessions', 'compact', sessionId, '--keep-recent', '1']);
    expect(compact.stdout).toContain('compacted: 2 archived, 1 kept');
    const close = await agw(['sessions', 'close', sessionId]);
    expect(close.stdout).toContain(`${sessionId}: closed`);
    const again = await agw(['sessions', 'close', sessionId]);
    expect(again.stdout).toContain('already closed');
  });

  it('drafts create/list/show and orchestrate (sync and --follow)', async () => {
    const created = await agw([
      'drafts',
      'create',
      '--title',
      'CLI draft',
      '--body',
      "It's a draft",
      '--json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const draftId = JSON.parse(created.stdout).draft.id as string;
    const list = await agw(['drafts', 'list']);
    expect(list.stdout).toContain(draftId);
    const show = await agw(['drafts', 'show', draftId, '--json']);
    expect(JSON.parse(show.stdout).revisions).toHaveLength(1);
    const showText = await agw(['drafts', 'show', draftId]);
    expect(showText.stdout).toContain(`draft ${draftId} "CLI draft" revision 1`);
    expect(showText.stdout).toMatch(/^1\s+create\s+-\s+-\s+\S+$/m);
    const sync = await agw(['orchestrate', '--draft', draftId, '--channel', 'cli-cycle']);
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stdout).toMatch(/: completed verdict/);
    const follow = await agw(['orchestrate', '--draft', draftId, '--follow']);
    expect(follow.code, follow.stderr).toBe(0);
    const order = [...COMPLETED_CYCLE_EVENT_TYPES];
    const positions = order.map((type) => follow.stdout.indexOf(`  ${type}`));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    const missing = await agw(['orchestrate']);
    expect(missing.code).toBe(2);
  });

  it('telemetry and adapters print the snapshot with levels; --json and filters pass through', async () => {
    const text = await agw(['telemetry', '--hours', '24']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/telemetry over the last 24 h/);
    expect(text.stdout).toMatch(/sessions\s+\d+ total/);
    expect(text.stdout).toContain('[UNKNOWN]'); // no attempts yet: levels without data are unknown, highlighted
    const json = await agw(['telemetry', '--json', '--channel=cli', '--limit', '5']);
    const snapshot = JSON.parse(json.stdout);
    expect(snapshot).toMatchObject({ windowHours: 24, sampleLimit: 5, filters: { channel: 'cli' } });
    expect(snapshot.sessions.total).toBeGreaterThanOrEqual(1);
    const adapters = await agw(['adapters', '--json', '--hours', '48']);
    expect(JSON.parse(adapters.stdout).adapters.registry).toEqual([
      'web',
      'live_session',
      'external_webhook',
    ]);
    const readable = await agw(['adapters']);
    expect(readable.stdout).toMatch(/adapter\s+sessions\s+failed/);
    expect(readable.stdout).toMatch(/^ingest\s+0 accepted, 0 replayed, 0 rejected$/m);
    expect(readable.stdout).toMatch(/connector profiles \(defaults only\)/);
    const bad = await agw(['telemetry', '--hours', '0']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('ADMIN_INVALID_QUERY');
  });

  it('exit codes: API error 1, usage 2, unreachable 3', async () => {
    const missing = await agw(['sessions', 'status', 'ags-00000000-0000-0000-0000-000000000000']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('AGENT_GATEWAY_SESSION_NOT_FOUND');
    const wrongToken = await agw(['sessions', 'list'], { ADMIN_API_TOKEN: 'nope-nope-nope-nope' });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toContain('ADMIN_TOKEN_INVALID');
    for (const args of [
      ['sessions'],
      ['sessions', 'bogus'],
      ['sessions', 'list', '--nope'],
      ['sessions', 'list', '--limit='],
      ['frobnicate'],
      [],
    ]) {
      const res = await agw(args);
      expect(res.code, args.join(' ')).toBe(2);
    }
    const down = await agw(['health'], { API_BASE_URL: 'http://127.0.0.1:9' });
    expect(down.code).toBe(3);
    const help = await agw(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes');
  });

  it('migrate --check reports pending migrations (exit 1), migrate applies them, then --check passes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agw-migrate-'));
    try {
      const env = childEnv({ AGW_DATA_DIR: dir });
      const pending = await run('node', ['dist/cli/main.js', 'migrate', '--check'], env, 60_000);
      expect(pending.code, pending.stderr).toBe(1);
      expect(pending.stdout).toMatch(/migration\(s\) pending/);
      const apply = await run('node', ['dist/cli/main.js', 'migrate'], env, 60_000);
      expect(apply.code, apply.stderr).toBe(0);
      const check = await run('node', ['dist/cli/main.js', 'migrate', '--check', '--json'], env, 60_000);
      expect(check.code).toBe(0);
      expect(JSON.parse(check.stdout)).toMatchObject({ pending: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
}, 120_000);
