import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { sseEvents } from '../../src/cli/sse-reader.js';
import { ingestSignature } from '../helpers/ingest-client.js';
import { childEnv, repoRoot, startProcess } from '../helpers/processes.js';
import { createPostgresDatabase } from '../helpers/test-database.js';

const exec = promisify(execFile);

/** Integer setting from the environment (scripts scale with env vars; the issue's numbers are the defaults). */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return value;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function log(message: string): void {
  process.stdout.write(`[${new Date().toISOString().slice(11, 23)}] ${message}\n`);
}

/**
 * What a chaos script promises, check by check, with the numbers it measured. `finish` prints both and exits 1
 * when any check failed (or the script threw), so CI sees a broken promise as a failed command.
 */
export class ChaosReport {
  private readonly checks: { name: string; ok: boolean; detail: string }[] = [];
  private readonly figures: [string, string][] = [];
  private readonly started = Date.now();

  constructor(private readonly title: string) {}

  figure(name: string, value: string | number): void {
    this.figures.push([name, String(value)]);
  }

  check(name: string, ok: boolean, detail = ''): boolean {
    this.checks.push({ name, ok, detail });
    return ok;
  }

  get failed(): number {
    return this.checks.filter((c) => !c.ok).length;
  }

  finish(error?: unknown): never {
    const lines = ['', `=== ${this.title}`];
    for (const [name, value] of this.figures) lines.push(`  ${name}: ${value}`);
    lines.push(`  duration: ${((Date.now() - this.started) / 1000).toFixed(1)} s`);
    for (const c of this.checks)
      lines.push(`  ${c.ok ? 'PASS' : 'FAIL'}  ${c.name}${c.detail ? ` (${c.detail})` : ''}`);
    if (error) lines.push(`  FAIL  the script itself failed: ${(error as Error)?.stack ?? String(error)}`);
    const broken = this.failed > 0 || error !== undefined || this.checks.length === 0;
    lines.push(
      `${this.title}: ${broken ? 'PROMISE BROKEN' : 'promise kept'} (${this.checks.length - this.failed}/${this.checks.length} checks passed)`,
      '',
    );
    process.stdout.write(lines.join('\n'));
    process.exit(broken ? 1 : 0);
  }
}

/** Runs `scenario`, always runs `cleanup`, then prints the report and exits with its verdict. */
export async function runScenario(
  report: ChaosReport,
  scenario: (cleanups: (() => Promise<unknown>)[]) => Promise<void>,
): Promise<never> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error) => log(`cleanup failed: ${(error as Error).message}`));
    }
  };
  // Interrupted: still stop the gateways and drop the databases and cluster this run made.
  process.once('SIGINT', () => void cleanUp().finally(() => report.finish(new Error('interrupted'))));
  let failure: unknown;
  try {
    await scenario(cleanups);
  } catch (error) {
    failure = error;
  }
  await cleanUp();
  return report.finish(failure);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A gateway as a real process (`node dist/main.js`), so SIGKILL means what it means in production. */
export interface GatewayProcess {
  name: string;
  url: string;
  child: ChildProcess;
  output(): string;
  /** Sends a signal and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  alive(): boolean;
}

export async function startGateway(name: string, env: Record<string, string>): Promise<GatewayProcess> {
  if (!existsSync(join(repoRoot, 'dist/main.js')))
    throw new Error('dist/main.js is missing: run npm run build');
  const started = await startProcess(
    'node',
    ['dist/main.js'],
    childEnv({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env }),
    /listening on (http:\/\/\S+)/,
    90_000,
  );
  const { child } = started;
  // startProcess rejects on exit before ready; after ready an exit is what the scenario observes via alive().
  child.removeAllListeners('exit');
  return {
    name,
    url: started.match[1]!,
    child,
    output: started.output,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/** A throw-away `agw_chaos_<random>` database on the shared PostgreSQL server (never reconfigured, only used). */
export async function createChaosDatabase(
  base = process.env.CHAOS_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
): Promise<{ url: string; pool: pg.Pool; drop(): Promise<void> }> {
  const database = await createPostgresDatabase(base, 'agw_chaos');
  const pool = new pg.Pool({ connectionString: database.url, max: 4 });
  pool.on('error', () => undefined);
  return {
    url: database.url,
    pool,
    async drop() {
      await pool.end().catch(() => undefined);
      await database.drop();
    },
  };
}

/**
 * A PostgreSQL cluster of our own (Debian `pg_createcluster`), so stopping it never touches the shared server.
 * Created if missing, started, and dropped by `drop()` (or left stopped with CHAOS_KEEP_CLUSTER=1).
 */
export async function privatePostgresCluster(options: { name?: string; port?: number } = {}): Promise<{
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  drop(): Promise<void>;
}> {
  const name = options.name ?? 'agwchaos';
  const port = options.port ?? envInt('CHAOS_PG_PORT', 5439);
  const versions = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v))
    : [];
  const version = versions.sort((a, b) => Number(a) - Number(b)).at(-1);
  if (!version)
    throw new Error('no PostgreSQL server under /usr/lib/postgresql (Debian postgresql packages)');
  const ctl = (action: string, ...extra: string[]) =>
    exec('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, action, ...extra]);
  const existing = (await exec('pg_lsclusters', ['--no-header'])).stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find((cols) => cols[0] === version && cols[1] === name);
  if (existing && Number(existing[2]) !== port)
    throw new Error(`cluster ${version}/${name} exists on port ${existing[2]}, not ${port}`);
  if (!existing) {
    log(`creating PostgreSQL cluster ${version}/${name} on port ${port}`);
    await exec('pg_createcluster', [version, name, '-p', String(port), '--', '--auth=trust']);
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const waitUntil = async (up: boolean) => {
    for (let i = 0; i < 150; i++) {
      const answered = await exec('pg_isready', ['-h', '127.0.0.1', '-p', String(port), '-q']).then(
        () => true,
        () => false,
      );
      if (answered === up) return;
      await sleep(100);
    }
    throw new Error(`cluster ${name} did not become ${up ? 'ready' : 'unreachable'}`);
  };
  const cluster = {
    url,
    port,
    async start() {
      await ctl('start').catch((error: Error) => {
        if (!/already running/i.test(String((error as { stderr?: string }).stderr ?? error.message)))
          throw error;
      });
      await waitUntil(true);
    },
    async stop() {
      await ctl('stop', '-m', 'fast');
      await waitUntil(false);
    },
    async drop() {
      if (process.env.CHAOS_KEEP_CLUSTER === '1') {
        await ctl('stop', '-m', 'fast').catch(() => undefined);
        return;
      }
      await exec('pg_dropcluster', ['--stop', version, name]);
    },
  };
  await cluster.start();
  return cluster;
}

/** A Redis server of our own on a free port (no persistence), so killing it never touches the shared one. */
export async function privateRedis(): Promise<{
  url: string;
  kill(): Promise<void>;
  start(): Promise<void>;
}> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    for (let i = 0; i < 100; i++) {
      const pong = await exec('redis-cli', ['-p', String(port), 'ping']).then(
        (r) => r.stdout.trim() === 'PONG',
        () => false,
      );
      if (pong) return;
      await sleep(50);
    }
    throw new Error(`redis-server on port ${port} did not answer`);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    kill: () =>
      new Promise<void>((resolve) => {
        const c = child;
        if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
      }),
  };
}

export async function countOf(pool: pg.Pool, text: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: string | number }>(text, params);
  return Number(rows[0]?.n ?? 0);
}

/** Sessions whose seq is not exactly 1..n, or whose counters disagree with their rows (from the database). */
export async function timelineProblems(pool: pg.Pool, sessionIds?: string[]): Promise<string[]> {
  const { rows } = await pool.query<{
    id: string;
    n: number;
    min_seq: number | null;
    max_seq: number | null;
    distinct_seq: number;
    event_count: number;
    last_seq: number;
  }>(
    `select s.id, count(e.seq)::int as n, min(e.seq) as min_seq, max(e.seq) as max_seq,
            count(distinct e.seq)::int as distinct_seq, s.event_count, s.last_seq
       from sessions s left join session_events e on e.session_id = s.id
      where $1::text[] is null or s.id = any($1::text[])
      group by s.id`,
    [sessionIds ?? null],
  );
  const problems: string[] = [];
  for (const r of rows) {
    const gapFree = r.n === 0 || (r.min_seq === 1 && r.max_seq === r.n && r.distinct_seq === r.n);
    if (!gapFree)
      problems.push(`${r.id}: ${r.n} events, seq ${r.min_seq}..${r.max_seq}, ${r.distinct_seq} distinct`);
    if (r.event_count !== r.n || r.last_seq !== (r.max_seq ?? 0))
      problems.push(
        `${r.id}: counters say ${r.event_count} events / last seq ${r.last_seq}, rows say ${r.n} / ${r.max_seq}`,
      );
  }
  return problems;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function adminHeaders(token: string): Record<string, string> {
  return { 'x-admin-token': token, 'content-type': 'application/json' };
}

/** fetch with a bound; a transport failure or timeout comes back as status 0 (never a throw). */
/** Gateway settings that put every role on the mock provider, each call answered after `latencyMs`. */
export function mockRolesEnv(mockUrl: string, latencyMs: number): Record<string, string> {
  return {
    AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
    AI_RUNTIME_MOCK_KIND: 'openai',
    AI_RUNTIME_MOCK_ENDPOINT: `${mockUrl}/v1`,
    AI_RUNTIME_MOCK_API_KEY: 'mock-key-0123456789',
    AI_RUNTIME_MOCK_MODEL: `mock-latency-${latencyMs}`,
    AI_CRITIC_MODEL_CHAIN: 'mock',
    AI_MAKER_MODEL_CHAIN: 'mock',
    AI_JUDGE_MODEL_CHAIN: 'mock',
  };
}

/** The timeline of a completed draft cycle, in order. */
export { COMPLETED_CYCLE_EVENT_TYPES as CYCLE_EVENTS } from '../helpers/cycle-events.js';

/** A signed ingest request for `raw` (fresh timestamp), for `request` or `fetch`. */
export function signedIngest(secret: string, raw: string): RequestInit {
  const ts = Math.floor(Date.now() / 1000);
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-gateway-timestamp': String(ts),
      'x-gateway-signature': ingestSignature(secret, ts, raw),
    },
    body: raw,
  };
}

export async function request(
  url: string,
  init: RequestInit & { timeoutMs?: number } = {},
): Promise<{ status: number; body: unknown; error?: string; ms: number }> {
  const started = Date.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 10_000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON (metrics)
    }
    return { status: res.status, body, ms: Date.now() - started };
  } catch (error) {
    return { status: 0, body: null, error: (error as Error).message, ms: Date.now() - started };
  }
}

/**
 * Follows one session's stream on one replica, collecting seqs (and when each arrived) until aborted or the stream
 * ends. `openedAt` lets a caller tell live deliveries from the replay of what existed before it connected.
 */
export function follow(url: string, sessionId: string, token: string) {
  const controller = new AbortController();
  const seqs: number[] = [];
  const arrivedAt: number[] = [];
  const openedAt = Date.now();
  const done = (async () => {
    try {
      const res = await fetch(`${url}/api/admin/agent-gateway/sessions/${sessionId}/stream`, {
        headers: { 'x-admin-token': token },
        signal: controller.signal,
      });
      if (!res.body) return;
      for await (const event of sseEvents(res.body)) {
        seqs.push((JSON.parse(event.data) as { seq: number }).seq);
        arrivedAt.push(Date.now());
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
  })();
  return { sessionId, url, seqs, arrivedAt, openedAt, stop: () => controller.abort(), done };
}
