import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startMockProvider } from '../../src/mock-provider/mock-provider.js';
import { childEnv, concurrentChatCalls, run, startProcess, stopProcess } from '../helpers/processes.js';
import { until } from '../helpers/wait.js';

const KEY = 'sk-shutdown-0123456789abcdef';

describe('graceful shutdown with keep-alive clients', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'agw-shutdown-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('SIGTERM during slow calls: every call answers, the kept-alive connections are closed, exit 0', async () => {
    const mock = await startMockProvider({});
    try {
      const { child, match } = await startProcess(
        'node',
        ['dist/main.js'],
        childEnv({
          AGW_DATA_DIR: dataDir,
          PORT: '0',
          LOG_LEVEL: 'warn',
          ADMIN_API_TOKEN: 'shutdown-admin-token-0123456789',
          GATEWAY_API_KEYS: KEY,
          AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
          AI_RUNTIME_DEFAULT_UPSTREAM: `${mock.url}/v1`,
        }),
        /listening on (http:\/\/\S+)/,
        90_000,
      );
      try {
        const slow = concurrentChatCalls(match[1] as string, KEY, 'mock-latency-1000', 4);
        await until(
          () => mock.seen('mock-latency-1000').length >= 4,
          'the slow calls to reach the upstream',
          20_000,
          20,
        );
        expect(mock.seen('mock-latency-1000')).toHaveLength(4);
        const exited = stopProcess(child, 'SIGTERM');
        expect(await slow).toEqual([200, 200, 200, 200]);
        // Before the fix the process waited for its shutdown watchdog on the idle kept-alive sockets (exit 1).
        expect(await exited).toBe(0);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    } finally {
      await mock.close();
    }
  }, 120_000);

  it('a SIGTERM the moment the banner is out (the reader signals at once) is handled: drained, exit 0', async () => {
    // The same data directory: initialised by the test above, so this start is quick.
    const result = await run(
      'node',
      ['--import', './test/fixtures/signal-on-announce.mjs', 'dist/main.js'],
      childEnv({
        AGW_DATA_DIR: dataDir,
        PORT: '0',
        LOG_LEVEL: 'info',
        ADMIN_API_TOKEN: 'shutdown-admin-token-0123456789',
      }),
      90_000,
    );
    const output = result.stdout + result.stderr;
    expect(output).toContain('Agent Gateway listening on');
    // Before the fix the handlers were installed after the banner: the process died of the signal (code null).
    expect(result.code, output).toBe(0);
    expect(output).toContain('"signal":"SIGTERM","msg":"shutting down"');
  }, 120_000);
});
