import { mkdtempSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { childEnv, run } from '../helpers/processes.js';

const base = ['--api-base-url', 'http://127.0.0.1:9', '--admin-token', 'usage-admin-token-0123456789'];

async function gate(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['gate', ...args], { out: (t) => out.push(t), err: (t) => err.push(t), env });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

// Each test runs whole gates (tens of HTTP probes, telemetry polling) on a 2-core machine shared with other suites;
// nothing here asserts speed.
describe('agw gate command line: bad input is exit 2 with usage, before any request', {
  timeout: 120_000,
}, () => {
  it('an unknown flag exits 2 with the usage (as a process)', async () => {
    const res = await run('node', ['dist/cli/main.js', 'gate', ...base, '--no-such-flag'], childEnv({}));
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("Unknown option '--no-such-flag'");
    expect(res.stderr).toContain('agw gate [--api-base-url URL]');
  });

  it.each([
    ['empty value', [...base, '--webhook-secret='], '--webhook-secret needs a value'],
    ['missing value', [...base, '--out-dir'], "Option '--out-dir <value>' argument missing"],
    ['value on a boolean', [...base, '--strict=yes'], "Option '--strict' does not take an argument"],
    ['unknown channel', [...base, '--required-external-channels', 'telegram,icq'], 'unknown channel(s) icq'],
    ['all mixed', [...base, '--required-external-channels=all,slack'], '"all" cannot be combined'],
    ['non-integer timeout', [...base, '--http-timeout-ms', '10s'], '--http-timeout-ms must be an integer'],
    ['timeout out of range', [...base, '--http-timeout-ms=5'], 'between 100 and 600000'],
    ['zero detail items', [...base, '--failure-detail-max-items', '0'], 'between 1 and 1000'],
    ['bad draft id', [...base, '--runtime-draft-id', 'draft-1'], '--runtime-draft-id must be a draft uuid'],
    ['bad channel', [...base, '--runtime-channel', 'Bad Channel!'], '--runtime-channel must match'],
    ['not a URL', ['--api-base-url', 'example', '--admin-token', 'x'], '--api-base-url is not a URL'],
    ['not http', ['--api-base-url', 'ftp://example.com', '--admin-token', 'x'], 'must be an http(s) URL'],
    [
      'credentials in the URL',
      ['--api-base-url', 'https://ops:hunter2@example.com', '--admin-token', 'x'],
      'must not carry credentials',
    ],
    ['no URL anywhere', ['--admin-token', 'x'], '--api-base-url (or RELEASE_API_BASE_URL) is required'],
    [
      'no token anywhere',
      ['--api-base-url', 'http://127.0.0.1:9'],
      '--admin-token (or RELEASE_ADMIN_API_TOKEN)',
    ],
    ['stray argument', [...base, 'now'], 'unexpected argument: now'],
  ])('%s', async (_name, args, message) => {
    const res = await gate(args);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(message);
    expect(res.stderr).toContain('agw gate');
  });

  it('env values are validated like flags; a flag wins over its variable', async () => {
    const bad = await gate([], {
      RELEASE_API_BASE_URL: 'http://127.0.0.1:9',
      RELEASE_ADMIN_API_TOKEN: 'usage-admin-token-0123456789',
      RELEASE_REQUIRED_EXTERNAL_CHANNELS: 'fax',
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown channel(s) fax');
    const flagWins = await gate(['--required-external-channels', 'x'], {
      RELEASE_API_BASE_URL: 'http://127.0.0.1:9',
      RELEASE_ADMIN_API_TOKEN: 't',
      RELEASE_REQUIRED_EXTERNAL_CHANNELS: 'slack',
    });
    expect(flagWins.stderr).toContain('unknown channel(s) x');
  });

  it('a history file that is not the gate history is a usage error', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'agw-hist-')), 'history.json');
    writeFileSync(file, '{"runs": ');
    const res = await gate([...base, '--history', file]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('not readable JSON');
  });

  it('an unreachable gateway is a failed gate (exit 1) with every check recorded, not a crash', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'agw-gate-down-'));
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const res = await gate([
      ...[
        '--api-base-url',
        `http://127.0.0.1:${closedPort}`,
        '--admin-token',
        'usage-admin-token-0123456789',
      ],
      ...['--out-dir', outDir, '--http-timeout-ms', '2000', '--json'],
    ]);
    expect(res.code).toBe(1);
    const summary = JSON.parse(res.stdout);
    expect(summary.status).toBe('fail');
    expect(summary.checks.health).toMatchObject({ pass: false, details: { httpStatus: null, attempts: 3 } });
    expect(summary.checks.health.errors[0]).toContain('ECONNREFUSED');
    expect(Object.keys(summary.checks)).toHaveLength(11);
  });
});
