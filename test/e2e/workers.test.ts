import { existsSync } from 'node:fs';
import pg from 'pg';
import { Pool } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { startMockProvider } from '../../src/mock-provider/mock-provider.js';
import { childEnv, concurrentChatCalls, run, startProcess, stopProcess } from '../helpers/processes.js';
import { createPostgresDatabase } from '../helpers/test-database.js';
import { until } from '../helpers/wait.js';

const KEY = 'sk-workers-0123456789abcdef';
const ADMIN = 'workers-admin-token-0123456789';
const alive = (pid: number) => existsSync(`/proc/${pid}`);

/**
 * Sends `count` /v1 calls over `connections` keep-alive connections (the cluster spreads connections);
 * `whileOpen` runs before the connections close.
 */
async function calls(
  url: string,
  count: number,
  connections: number,
  whileOpen?: () => Promise<void>,
): Promise<number[]> {
  const pool = new Pool(url, { connections });
  try {
    const statuses = await Promise.all(
      Array.from({ length: count }, async () => {
        const res = await pool.request({
          method: 'POST',
          path: '/v1/chat/completions',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'critic', messages: [{ role: 'user', content: 'hello' }] }),
        });
        await res.body.dump();
        return res.statusCode;
      }),
    );
    await whileOpen?.();
    return statuses;
  } finally {
    await pool.close();
  }
}

const v1Count = (metrics: string) =>
  Number(
    /^agw_http_request_duration_seconds_count\{route="\/v1\/chat\/completions",method="POST",status_class="2xx"\} (\d+)$/m.exec(
      metrics,
    )?.[1] ?? 0,
  );

describe('AGW_WORKERS', () => {
  it('more than one worker without DATABASE_URL and REDIS_URL is refused at start, naming both (exit 78)', async () => {
    const result = await run('node', ['dist/main.js'], childEnv({ AGW_WORKERS: '2', PORT: '0' }), 30_000);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('AGW_WORKERS > 1 needs DATABASE_URL');
    expect(result.stderr).toContain('AGW_WORKERS > 1 needs REDIS_URL');
  });

  it('rejects a worker count that is not a number or auto', async () => {
    const result = await run('node', ['dist/main.js'], childEnv({ AGW_WORKERS: 'many', PORT: '0' }), 30_000);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('AGW_WORKERS must be an integer');
  });

  // Workers need PostgreSQL and Redis: this runs in CI's real-PostgreSQL pass (both set), never skipped there.
  describe.runIf(Boolean(process.env.DATABASE_URL && process.env.REDIS_URL))(
    'on PostgreSQL and Redis',
    () => {
      const drops: (() => Promise<void>)[] = [];
      afterAll(async () => {
        for (const drop of drops) await drop();
      });
      const env = async (extra: Record<string, string> = {}) => {
        const db = await createPostgresDatabase();
        drops.push(db.drop);
        return childEnv({
          AGW_WORKERS: '2',
          PORT: '0',
          LOG_LEVEL: 'warn',
          DATABASE_URL: db.url,
          REDIS_URL: process.env.REDIS_URL,
          ADMIN_API_TOKEN: ADMIN,
          GATEWAY_API_KEYS: KEY,
          ...extra,
        });
      };

      it('serves on one port from every worker, aggregates /metrics, replaces a dead worker, stops on SIGTERM', async () => {
        const { child, match, output } = await startProcess(
          'node',
          ['dist/main.js'],
          await env(),
          /listening on (http:\/\/\S+)[\s\S]*workers: {2}2 \(primary (\d+); workers (\d+), (\d+)\)/,
          90_000,
        );
        const [, url, primary, first, second] = match as unknown as [string, string, string, string, string];
        const workers = [Number(first), Number(second)];
        try {
          expect(Number(primary)).toBe(child.pid);
          // Both workers listen (each logs its own "Server listening" at info; at warn, check the processes).
          expect(workers.every(alive)).toBe(true);

          // Which processes hold the server side of the open connections (ss, read from the kernel).
          const port = new URL(url).port;
          let owners = new Set<number>();
          const statuses = await calls(url, 60, 12, async () => {
            const ss = await run(
              'ss',
              ['-tnpH', 'state', 'established', `sport = :${port}`],
              process.env,
              5000,
            );
            owners = new Set([...ss.stdout.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])));
          });
          expect(statuses).toEqual(Array(60).fill(200));
          // The primary accepts and hands each socket on; it may not have dropped its copy yet on a loaded machine.
          owners.delete(Number(primary));
          expect([...owners].sort()).toEqual([...workers].sort());
          // A scrape reaches one worker, which answers for both: the count is every call, not one worker's share.
          const scrape = async () => {
            const res = await fetch(`${url}/metrics`);
            expect(res.status).toBe(200);
            return res.text();
          };
          expect(v1Count(await scrape())).toBe(60);
          // Shared gauges are taken once, not summed over workers.
          expect(await scrape()).toMatch(
            /^agw_provider_circuit_state\{provider="local-primary",profile="default"\} 0$/m,
          );

          // A worker dies: the primary starts a replacement and the port keeps answering.
          process.kill(workers[0]!, 'SIGKILL');
          await until(() => !alive(workers[0]!), 'the killed worker to be gone', 20_000, 50);
          const children = () =>
            run('pgrep', ['-P', String(child.pid)], process.env, 5000).then((r) =>
              r.stdout.split('\n').filter(Boolean).map(Number),
            );
          // Scrapes keep answering while the replacement starts (a worker not yet listening is not waited for).
          const scrapeStatuses: number[] = [];
          await until(
            async () => {
              scrapeStatuses.push((await fetch(`${url}/metrics`)).status);
              const now = await children();
              return now.length === 2 && now.some((pid) => !workers.includes(pid));
            },
            'a replacement worker',
            20_000,
            50,
          );
          for (let i = 0; i < 10; i++) {
            scrapeStatuses.push((await fetch(`${url}/metrics`)).status);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          expect(new Set(scrapeStatuses)).toEqual(new Set([200]));
          await until(
            async () => (await calls(url, 20, 4)).every((status) => status === 200),
            'every call to succeed after the replacement',
            20_000,
            50,
          );
          expect(await calls(url, 40, 8)).toEqual(Array(40).fill(200));
          expect(output()).toContain('worker died; starting a replacement');
          // The banner is printed once, not again by the replacement.
          expect(output().match(/Agent Gateway listening on/g)).toHaveLength(1);

          const replacement = (await children()).find((pid) => !workers.includes(pid))!;
          expect(await stopProcess(child, 'SIGTERM')).toBe(0);
          expect([workers[1]!, replacement].some(alive)).toBe(false);
        } finally {
          if (child.exitCode === null) child.kill('SIGKILL');
        }
      }, 120_000);

      it('Ctrl-C (SIGINT to the primary and every worker at once) drains in-flight calls and exits 0', async () => {
        const mock = await startMockProvider({});
        try {
          const { child, match } = await startProcess(
            'node',
            ['dist/main.js'],
            await env({
              AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
              AI_RUNTIME_DEFAULT_UPSTREAM: `${mock.url}/v1`,
            }),
            /listening on (http:\/\/\S+)[\s\S]*workers: {2}2 \(primary (\d+); workers (\d+), (\d+)\)/,
            90_000,
          );
          const [, url, , first, second] = match as unknown as [string, string, string, string, string];
          try {
            // Slow calls on several connections, so both workers have one in flight.
            const slow = concurrentChatCalls(url, KEY, 'mock-latency-1500', 4);
            await until(
              () => mock.seen('mock-latency-1500').length === 4,
              'the slow calls to reach the upstream',
              20_000,
              50,
            );
            // What a terminal does on Ctrl-C: the signal goes to the whole process group.
            for (const pid of [child.pid!, Number(first), Number(second)]) process.kill(pid, 'SIGINT');
            expect(await slow).toEqual([200, 200, 200, 200]);
            expect(await stopProcess(child, 'SIGINT')).toBe(0);
            expect([Number(first), Number(second)].some(alive)).toBe(false);
          } finally {
            if (child.exitCode === null) child.kill('SIGKILL');
          }
        } finally {
          await mock.close();
        }
      }, 120_000);

      it('a worker that cannot start stops the primary with an error instead of a restart loop', async () => {
        const result = await run(
          'node',
          ['dist/main.js'],
          // info: the primary's "worker started" lines are what shows it did not fork replacements.
          await env({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', LOG_LEVEL: 'info' }),
          60_000,
        );
        expect(result.code).not.toBe(0);
        expect(result.code).not.toBeNull();
        expect(result.stdout + result.stderr).toContain('worker failed to start; stopping');
        expect((result.stdout + result.stderr).match(/"msg":"worker started"/g)).toHaveLength(2);
      }, 90_000);

      it('a SIGTERM forwarded while a worker that just said it listens is still held is handled: exit 0', async () => {
        const result = await run(
          'node',
          ['--import', './test/fixtures/signal-on-announce.mjs', 'dist/main.js'],
          await env({ LOG_LEVEL: 'info' }),
          60_000,
        );
        const output = result.stdout + result.stderr;
        // Before the fix a worker installed its handlers after telling the primary: it died of the signal (exit 1).
        expect(result.code, output).toBe(0);
        // Every worker that told the primary it listens drained and exited 0 (one still starting may die of the
        // signal, as intended).
        const listened = [...output.matchAll(/"worker":(\d+),"msg":"worker listening"/g)].map((m) => m[1]);
        expect(listened.length).toBeGreaterThan(0);
        for (const pid of listened)
          expect(output).toContain(`"worker":${pid},"code":0,"signal":null,"msg":"worker stopped"`);
      }, 90_000);

      it('applying migrations pauses the start deadline: a slow migration is waited for, not killed', async () => {
        // Long enough for two workers to boot and, after the migration, finish starting on a loaded machine.
        const workerEnv = await env({ AGW_WORKER_START_TIMEOUT_MS: '8000', LOG_LEVEL: 'info' });
        // Migrated once, so a later start reads the migrations table: held locked, that read is a slow migration.
        expect((await run('node', ['dist/cli/main.js', 'migrate'], workerEnv, 60_000)).code).toBe(0);
        const holder = new pg.Client({ connectionString: workerEnv.DATABASE_URL });
        await holder.connect();
        let released = false;
        try {
          await holder.query('begin');
          await holder.query('lock table drizzle.__drizzle_migrations in access exclusive mode');
          const gateway = startProcess(
            'node',
            ['dist/main.js'],
            workerEnv,
            /listening on (http:\/\/\S+)[\s\S]*workers: {2}2 \(primary (\d+);/,
            90_000,
          );
          gateway.catch(() => undefined);
          // Half as long again as the deadline, one worker applying (blocked on the table), the other waiting for its lock.
          await new Promise((resolve) => setTimeout(resolve, 12_000));
          await holder.query('rollback');
          released = true;
          const { child, output } = await gateway;
          try {
            expect(output()).toContain('worker applying migrations; start deadlines paused');
            expect(output()).not.toContain('did not start listening in time');
            const code = await stopProcess(child, 'SIGTERM');
            expect(code, output()).toBe(0);
          } finally {
            if (child.exitCode === null) child.kill('SIGKILL');
          }
        } finally {
          if (!released) await holder.query('rollback').catch(() => undefined);
          await holder.end();
        }
      }, 120_000);

      it('a worker stuck starting (the migration lock held elsewhere) is killed at AGW_WORKER_START_TIMEOUT_MS and the primary stops', async () => {
        const workerEnv = await env({ AGW_WORKER_START_TIMEOUT_MS: '2000', LOG_LEVEL: 'info' });
        // What a replica stuck mid-migration leaves behind: the migration advisory lock, held.
        const holder = new pg.Client({ connectionString: workerEnv.DATABASE_URL });
        await holder.connect();
        try {
          await holder.query('select pg_advisory_lock(727001)');
          const started = performance.now();
          const result = await run('node', ['dist/main.js'], workerEnv, 60_000);
          const output = result.stdout + result.stderr;
          expect(result.code).toBe(1);
          expect(output).toContain('worker did not start listening in time; killing it');
          expect(output).toContain('worker failed to start; stopping');
          expect(output).not.toContain('listening on');
          // Killed at the deadline, not left waiting (the lock is still held).
          expect(performance.now() - started).toBeGreaterThanOrEqual(2000);
          const pids = [...output.matchAll(/"worker":(\d+),"msg":"worker started"/g)].map((m) =>
            Number(m[1]),
          );
          expect(pids).toHaveLength(2);
          expect(pids.some(alive)).toBe(false);
          // They were waiting on the lock, as intended: nothing else made them fail.
          expect(output).not.toMatch(/Failed to start/);
        } finally {
          await holder.end();
        }
      }, 90_000);
    },
  );
});
