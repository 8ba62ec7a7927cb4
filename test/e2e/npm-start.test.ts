import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childEnv, run, startProcess, stopProcess } from '../helpers/processes.js';

describe('npm start on an empty data directory (embedded store)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'agw-start-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts, prints URL and a generated token, is ready, refuses a second process, stops on SIGTERM', async () => {
    const env = childEnv({ AGW_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' });
    const { child, match } = await startProcess(
      'node',
      ['dist/main.js'],
      env,
      /listening on (http:\/\/[^\s]+)\n {2}console: {2}(\S+)\n[\s\S]*admin token \(x-admin-token\): (\S+)/,
      90_000,
    );
    try {
      const [, url, consoleUrl, token] = match as unknown as [string, string, string, string];
      expect(token).toMatch(/^agw_/);
      // The banner's console line is accurate: the page is there.
      expect(consoleUrl).toBe(`${url}/admin`);
      const page = await fetch(consoleUrl);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('/admin/assets/main.js');
      expect(statSync(join(dataDir, 'admin-token')).mode & 0o777).toBe(0o600);
      const ready = await fetch(`${url}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        status: 'ok',
        db: 'ok',
        migrations: 'ok',
        redis: 'disabled',
      });
      const denied = await fetch(`${url}/api/admin/agent-gateway/sessions`);
      expect(denied.status).toBe(401);
      const allowed = await fetch(`${url}/api/admin/agent-gateway/sessions`, {
        headers: { 'x-admin-token': token },
      });
      expect(allowed.status).toBe(200);

      const second = await run('node', ['dist/main.js'], env, 30_000);
      expect(second.code).toBe(78);
      expect(second.stderr).toContain('in use by another gateway process');
    } finally {
      expect(await stopProcess(child)).toBe(0);
    }
  }, 120_000);
});
