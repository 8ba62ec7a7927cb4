import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SUMMARY_FILE, TRACES_FILE } from '../../src/cli/gate/gate-report.js';
import { startGateTarget, WEBHOOK_SECRET } from '../gate/gate-support.js';
import { repoRoot } from '../helpers/processes.js';
import { TEST_TOKENS, type TestGateway } from '../helpers/test-gateway.js';
import { runInDir } from './shell.js';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}

const workflow = parse(
  readFileSync(new URL('../../.github/workflows/production-launch-gate.yml', import.meta.url), 'utf8'),
) as {
  name: string;
  on: { workflow_dispatch: { inputs: Record<string, { type: string; default: unknown }> } };
  permissions: Record<string, string>;
  jobs: Record<string, { 'runs-on': string; 'timeout-minutes': number; steps: Step[] }>;
};
const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
const gateStep = steps.find((s) => s.run?.includes('dist/cli/main.js gate'))!;

// actionlint cannot be installed here; this checks the structure the release runbook relies on, and runs the gate
// step's own script against a live gateway.
describe('.github/workflows/production-launch-gate.yml', () => {
  it('is a manual dispatch with inputs for required channels and strictness, read-only permissions', () => {
    expect(Object.keys(workflow.on)).toEqual(['workflow_dispatch']);
    const inputs = workflow.on.workflow_dispatch.inputs;
    expect(inputs.required_external_channels).toMatchObject({ type: 'string' });
    expect(inputs.strict).toMatchObject({ type: 'boolean', default: true });
    expect(inputs.require_live_providers).toMatchObject({ type: 'boolean' });
    expect(workflow.permissions).toEqual({ contents: 'read' });
    for (const job of Object.values(workflow.jobs)) {
      expect(job['runs-on']).toBe('ubuntu-latest');
      expect(job['timeout-minutes']).toBeGreaterThan(0);
    }
  });

  it('every step is well formed; actions are pinned to a major version', () => {
    for (const step of steps) {
      expect(step.name, JSON.stringify(step)).toBeTruthy();
      expect(Boolean(step.uses) !== Boolean(step.run), `${step.name}: exactly one of uses/run`).toBe(true);
      if (step.uses) expect(step.uses).toMatch(/^[\w-]+\/[\w-]+(\/[\w-]+)?@v\d+$/);
    }
    expect(steps.find((s) => s.uses?.startsWith('actions/setup-node'))?.with).toMatchObject({
      'node-version': '20',
    });
  });

  it('passes the three secrets and the inputs through env, never interpolated into the script', () => {
    /** A GitHub Actions expression, `$` + `{{ … }}`. */
    const expr = (inner: string) => ['$', '{{ ', inner, ' }}'].join('');
    expect(gateStep.env).toMatchObject({
      RELEASE_API_BASE_URL: expr('secrets.RELEASE_API_BASE_URL'),
      RELEASE_ADMIN_API_TOKEN: expr('secrets.RELEASE_ADMIN_API_TOKEN'),
      RELEASE_AGENT_GATEWAY_WEBHOOK_SECRET: expr('secrets.RELEASE_AGENT_GATEWAY_WEBHOOK_SECRET'),
      RELEASE_REQUIRED_EXTERNAL_CHANNELS: expr('inputs.required_external_channels'),
    });
    for (const step of steps) expect(step.run ?? '').not.toContain(expr('').slice(0, 3));
  });

  it('uploads the summary and the traces (as production-external-channel-traces) even when the gate fails', () => {
    const uploads = steps.filter((s) => s.uses?.startsWith('actions/upload-artifact'));
    const byName = Object.fromEntries(uploads.map((s) => [s.with?.name, s]));
    expect(byName['production-external-channel-traces']?.with?.path).toBe(`artifacts/release/${TRACES_FILE}`);
    expect(byName['production-launch-gate-summary']?.with?.path).toBe(`artifacts/release/${SUMMARY_FILE}`);
    for (const upload of uploads) expect(upload.if).toBe('always()');
  });

  describe('the gate step, run as the workflow runs it', { timeout: 120_000 }, () => {
    let t: TestGateway;
    beforeAll(async () => {
      t = await startGateTarget();
    });
    afterAll(async () => t?.close());

    it('with the dispatch defaults it passes and leaves the files the upload steps name', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'agw-workflow-'));
      symlinkSync(join(repoRoot, 'dist'), join(dir, 'dist'));
      const inputs = workflow.on.workflow_dispatch.inputs;
      const env: Record<string, string> = {
        RELEASE_API_BASE_URL: t.url,
        RELEASE_ADMIN_API_TOKEN: TEST_TOKENS.admin,
        RELEASE_AGENT_GATEWAY_WEBHOOK_SECRET: WEBHOOK_SECRET,
        RELEASE_REQUIRED_EXTERNAL_CHANNELS: String(inputs.required_external_channels!.default),
        RELEASE_GATE_HISTORY_FILE: gateStep.env!.RELEASE_GATE_HISTORY_FILE!,
        GATE_STRICT: String(inputs.strict!.default),
        GATE_REQUIRE_LIVE_PROVIDERS: String(inputs.require_live_providers!.default),
      };
      const res = await runInDir(dir, gateStep.run!, env, 120_000);
      expect(res.code, res.stdout + res.stderr).toBe(0);
      for (const upload of steps.filter((s) => s.uses?.startsWith('actions/upload-artifact')))
        expect(existsSync(join(dir, String(upload.with?.path)))).toBe(true);
      const summary = JSON.parse(readFileSync(join(dir, 'artifacts/release', SUMMARY_FILE), 'utf8'));
      expect(summary.config).toMatchObject({
        strict: true,
        requiredExternalChannels: ['telegram', 'slack', 'discord'],
      });
      expect(existsSync(join(dir, env.RELEASE_GATE_HISTORY_FILE!))).toBe(true);
    });
  });
});
