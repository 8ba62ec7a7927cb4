import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateTarget, WEBHOOK_SECRET } from '../gate/gate-support.js';
import { repoRoot } from '../helpers/processes.js';
import { adminRequest, TEST_TOKENS, type TestGateway } from '../helpers/test-gateway.js';
import { runInDir } from './shell.js';

const doc = readFileSync(
  new URL('../../docs/ops/agent-gateway-ai-runtime-runbook.md', import.meta.url),
  'utf8',
);
/** Every fenced bash block of the runbook, in document order. */
const blocks = [...doc.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);

/** Each curl also prints its HTTP status on a line of its own, so the test can tell a 4xx from a 2xx. */
const prelude = `set -eo pipefail
curl() { command curl -w '\\n@@status %{http_code}\\n' "$@"; }
`;

describe('docs/ops/agent-gateway-ai-runtime-runbook.md: every command, run against a live gateway', () => {
  let t: TestGateway;
  let dir: string;
  const ids = { session: '', draft: '' };
  beforeAll(async () => {
    t = await startGateTarget();
    const session = await adminRequest(t, 'POST', '/api/admin/agent-gateway/sessions', {
      channel: 'runbook',
      externalSessionId: 'runbook-ops-1',
    });
    ids.session = session.json().session.id;
    for (let i = 0; i < 45; i++) {
      await adminRequest(t, 'POST', `/api/admin/agent-gateway/sessions/${ids.session}/events`, {
        fromRole: 'observer',
        type: 'observer_message',
        payload: { i },
      });
    }
    const draft = await adminRequest(t, 'POST', '/api/admin/drafts', {
      title: 'Runbook draft',
      body: 'Probe body.',
    });
    ids.draft = draft.json().draft.id;
    dir = mkdtempSync(join(tmpdir(), 'agw-runbook-'));
    mkdirSync(join(dir, 'bin'));
    const agw = join(dir, 'bin', 'agw');
    writeFileSync(agw, `#!/bin/sh\nexec node ${JSON.stringify(join(repoRoot, 'dist/cli/main.js'))} "$@"\n`);
    chmodSync(agw, 0o755);
  });
  afterAll(async () => t?.close());

  it('has curl and agw commands for every runbook action', () => {
    const all = blocks.join('\n');
    for (const command of [
      'agw health',
      'agw profiles',
      'agw dry-run',
      'agw sessions list --stale 15',
      'agw sessions status',
      'agw sessions summary',
      'agw sessions compact',
      'agw sessions close',
      'agw orchestrate',
      'agw telemetry',
      'agw adapters',
      'agw gate',
    ])
      expect(all).toContain(command);
    expect(blocks.filter((b) => b.includes('curl ')).length).toBeGreaterThanOrEqual(12);
  });

  it('every block succeeds verbatim (placeholders replaced by real ids); every curl answers 2xx', async () => {
    const results: { block: string; statuses: string[] }[] = [];
    for (const block of blocks) {
      const script = block.replaceAll('<session-id>', ids.session).replaceAll('<draft-id>', ids.draft);
      const res = await runInDir(
        dir,
        prelude + script,
        {
          PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
          API_BASE_URL: t.url,
          ADMIN_API_TOKEN: TEST_TOKENS.admin,
          AGENT_GATEWAY_WEBHOOK_SECRET: WEBHOOK_SECRET,
          // Set by the "Inspect one session" block; later blocks run in the operator's same shell.
          SESSION_ID: ids.session,
        },
        120_000,
      );
      expect(res.code, `${block}\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`).toBe(0);
      const statuses = [...res.stdout.matchAll(/^@@status (\d+)$/gm)].map((m) => m[1]!);
      const curls = (block.match(/^\s*curl /gm) ?? []).length;
      expect(statuses.length, block).toBe(curls);
      for (const status of statuses) expect(status, `${block}\n${res.stdout}`).toMatch(/^2\d\d$/);
      results.push({ block, statuses });
    }
    // The session playbook really acted: compacted, then closed.
    const status = await adminRequest(t, 'GET', `/api/admin/agent-gateway/sessions/${ids.session}/status`);
    expect(status.json().status).toMatchObject({ status: 'closed', compactCount: 2 });
    // The release gate block passed and wrote its artifacts into the working directory.
    const summary = JSON.parse(
      readFileSync(join(dir, 'artifacts/release/production-launch-gate-summary.json'), 'utf8'),
    );
    expect(summary).toMatchObject({ pass: true, status: 'pass' });
    expect(results.find((r) => r.block.includes('adapters/ingest'))?.statuses).toEqual(['201']);
  }, 300_000); // ~25 `node` and `curl` processes one after another on a shared 2-core machine
});
