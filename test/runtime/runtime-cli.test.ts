import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/cli-context.js';
import { dryRunCommand, profilesCommand } from '../../src/cli/commands/runtime-commands.js';
import { startProcess, stopProcess } from '../helpers/processes.js';
import { startTestGateway, TEST_TOKENS, type TestGateway } from '../helpers/test-gateway.js';

function captureIo(env: NodeJS.ProcessEnv): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { env, stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t) };
}

describe('agw profiles / agw dry-run against a running gateway', () => {
  let t: TestGateway;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    t = await startTestGateway({ listen: true });
    env = { API_BASE_URL: t.url, ADMIN_API_TOKEN: TEST_TOKENS.admin };
  });
  afterAll(async () => t?.close());

  it('profiles prints the chains and provider states; --json prints the API body', async () => {
    const io = captureIo(env);
    expect(await profilesCommand([], io)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toContain('critic  local-primary → local-fallback');
    expect(text).toMatch(/local-primary\s+deterministic\s+deterministic\s+deterministic\s+closed/);
    const json = captureIo(env);
    expect(await profilesCommand(['--json'], json)).toBe(0);
    expect(JSON.parse(json.stdout.join('\n')).profiles).toHaveLength(4);
  });

  it('dry-run exits 0 on success, 1 when every provider failed, and shows the attempts', async () => {
    const ok = captureIo(env);
    expect(
      await dryRunCommand(
        ['--role', 'critic', '--prompt', 'health probe', '--simulate-failures', 'local-primary'],
        ok,
      ),
    ).toBe(0);
    expect(ok.stdout[0]).toMatch(
      /^OK role critic → local-fallback@default \(deterministic, mode deterministic/,
    );
    expect(ok.stdout.join('\n')).toMatch(
      /local-primary\s+default\s+deterministic\s+failed\s+\d+\s+AI_PROVIDER_UNAVAILABLE/,
    );
    const failed = captureIo(env);
    const code = await dryRunCommand(
      ['--role', 'judge', '--prompt', 'p', '--simulate-failures', 'local-primary,local-fallback', '--json'],
      failed,
    );
    expect(code).toBe(1);
    expect(JSON.parse(failed.stdout.join('\n')).result.failed).toBe(true);
  });

  it('dry-run exits 1 with the API error code on a rejected body, and needs --role/--prompt', async () => {
    const bad = captureIo(env);
    expect(await dryRunCommand(['--role', 'observer', '--prompt', 'p'], bad)).toBe(1);
    expect(bad.stderr.join('\n')).toContain('AI_RUNTIME_INVALID_ROLE');
    await expect(dryRunCommand(['--prompt', 'p'], captureIo(env))).rejects.toThrow(/--role is required/);
    await expect(
      dryRunCommand(['--role', 'critic', '--prompt', 'p', '--timeout-ms', 'soon'], captureIo(env)),
    ).rejects.toThrow(/--timeout-ms/);
  });
});

describe('agw mock-provider as a process', () => {
  it('prints its URL, serves scripted answers per model and request count, and stops on SIGTERM', async () => {
    const script = 'test/fixtures/mock-scripts/failover-demo.json';
    const code = `import('./src/cli/commands/runtime-commands.ts').then(async (m) => { process.exitCode = await m.mockProviderCommand(['--port', '0', '--script', '${script}']); })`;
    const { child, match } = await startProcess(
      'node',
      ['--import', 'tsx', '-e', code],
      { ...process.env },
      /listening on (http:\/\/\S+)/,
    );
    try {
      const url = match[1]!;
      const ask = (model: string) =>
        fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
        });
      const first = await ask('flaky');
      expect(first.status).toBe(503);
      expect(first.headers.get('retry-after')).toBe('1');
      expect((await ask('flaky')).status).toBe(200);
      const other = (await (await ask('anything')).json()) as { choices: { message: { content: string } }[] };
      expect(other.choices[0]?.message.content).toBe('scripted default answer');
    } finally {
      expect(await stopProcess(child)).toBe(0);
    }
  });
});
