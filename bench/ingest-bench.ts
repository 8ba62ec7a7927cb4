/**
 * npm run bench:ingest — signed ingest throughput and latency at 50 requests in flight over real HTTP, on real
 * PostgreSQL (DATABASE_URL, default the local test server; a fresh database is created and dropped), against raw
 * single-row INSERTs on the same database in the same run:
 *   - baseline "loop": one connection inserting one row per statement (autocommit), back to back;
 *   - baseline "pool": the same INSERT from 50 concurrent callers over a pool as large as the gateway's.
 * Each ingest request verifies an HMAC, validates, resolves the session and commits {dedup row, session, event,
 * counters} in one transaction. Targets: ≥ 0.6× the loop's rate and p99 < 20 ms.
 */
import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { Pool } from 'undici';
import { createGateway } from '../src/app.js';
import { loadConfig } from '../src/config/load-config.js';
import { createBenchDatabase, pct, recordResults } from './bench-support.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 10000);
// Warm-up requests before measuring: V8 optimises the request path only after a few thousand calls (with 500,
// the first measured round ran ~25 % slower than the second).
const WARMUP = Number(process.env.BENCH_INGEST_WARMUP ?? Math.min(5000, REQUESTS));
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const POOL_MAX = Number(process.env.BENCH_POOL_MAX ?? 10);
// Its own name: BENCH_SESSIONS sizes bench:telemetry, and `npm run bench` passes one environment to both.
const SESSIONS = Number(process.env.BENCH_INGEST_SESSIONS ?? 50);
const SECRET = 'bench-ingest-secret-0123456789abcdef';

interface Run {
  perSec: number;
  p50: number;
  p99: number;
  latencies: number[];
}

/** Runs `total` calls of `fn` with `concurrency` in flight; per-call latency in ms. */
async function measure(total: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<Run> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t0 = performance.now();
        await fn(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { perSec: total / seconds, p50: pct(latencies, 50), p99: pct(latencies, 99), latencies };
}

const fmt = (r: Run) =>
  `${r.perSec.toFixed(0).padStart(6)} /s   p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms`;

const debug = (what: string) => process.env.BENCH_DEBUG && process.stderr.write(`${what}\n`);
debug('creating database');
const bench = await createBenchDatabase();
debug('starting gateway');
const gateway = await createGateway({
  config: loadConfig({
    DATABASE_URL: bench.url,
    DATABASE_POOL_MAX: String(POOL_MAX),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    ADMIN_API_TOKEN: 'bench-token-0123456789abcdef',
    AGENT_GATEWAY_WEBHOOK_SECRET: SECRET,
    AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMIT_MAX: '10000000',
    AGENT_GATEWAY_AUTO_COMPACT_TRIGGER: '0',
  }),
  // Logs are produced (the production default level) and thrown away.
  logStream: new Writable({ write: (_c, _e, done) => done() }),
});
debug('gateway started');
let loopClient: pg.PoolClient | undefined;
const raw = new pg.Pool({ connectionString: bench.url, max: POOL_MAX });
try {
  const address = await gateway.listen();
  await raw.query('create table bench_raw (id text primary key, body jsonb not null)');
  loopClient = await raw.connect();
  const rowBody = JSON.stringify({ text: 'bench message', n: 1 });

  const http = new Pool(address, { connections: CONCURRENCY, pipelining: 1 });
  let runId = 0;
  const ingestRun = (total: number) => {
    const tag = `r${++runId}`;
    return measure(total, CONCURRENCY, async (i) => {
      const body = JSON.stringify({
        connectorId: 'bench',
        eventId: `${tag}-${i}`,
        channel: 'bench',
        externalSessionId: `room-${i % SESSIONS}`,
        fromRole: 'observer',
        type: 'note',
        payload: { text: "bench message — it's <fast> & 🚀", n: i },
      });
      const ts = String(Math.floor(Date.now() / 1000));
      const signature = `v1=${createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex')}`;
      const res = await http.request({
        method: 'POST',
        path: '/api/agent-gateway/adapters/ingest',
        headers: {
          'content-type': 'application/json',
          'x-gateway-timestamp': ts,
          'x-gateway-signature': signature,
        },
        body,
      });
      const answer = await res.body.text();
      if (res.statusCode !== 201)
        throw new Error(`ingest answered ${res.statusCode}: ${answer.slice(0, 300)}`);
    });
  };
  let rawSeq = 0;
  const loopRun = (total: number) =>
    measure(total, 1, async () => {
      await loopClient!.query('insert into bench_raw (id, body) values ($1, $2)', [`l${++rawSeq}`, rowBody]);
    });
  const poolRun = (total: number) =>
    measure(total, CONCURRENCY, async () => {
      await raw.query('insert into bench_raw (id, body) values ($1, $2)', [`p${++rawSeq}`, rowBody]);
    });

  // Warm-up (JIT, connections, first sessions) outside the measurement.
  await ingestRun(WARMUP);
  await loopRun(300);
  await poolRun(300);

  // Interleave the three so drift on a shared machine hits all of them.
  const results = { ingest: [] as Run[], loop: [] as Run[], pool: [] as Run[] };
  for (let round = 0; round < 2; round++) {
    results.loop.push(await loopRun(REQUESTS / 2));
    results.ingest.push(await ingestRun(REQUESTS / 2));
    results.pool.push(await poolRun(REQUESTS / 2));
  }
  // Rate: the mean of the rounds; latency percentiles: over every request of every round (the p99 of the run).
  const combine = (runs: Run[]): Run => {
    const latencies = runs.flatMap((r) => r.latencies);
    return {
      perSec: runs.reduce((n, r) => n + r.perSec, 0) / runs.length,
      p50: pct(latencies, 50),
      p99: pct(latencies, 99),
      latencies,
    };
  };
  const ingest = combine(results.ingest);
  const loop = combine(results.loop);
  const pool = combine(results.pool);
  await http.close();

  const lines = [
    `bench:ingest — ${REQUESTS} signed requests, ${CONCURRENCY} in flight, ${SESSIONS} sessions, pool ${POOL_MAX}, PostgreSQL`,
    `  signed ingest (HTTP, 201)       ${fmt(ingest)}`,
    `  raw INSERT loop (1 connection)  ${fmt(loop)}`,
    `  raw INSERT, ${CONCURRENCY} in flight (pool) ${fmt(pool)}`,
    `  ratio ingest / INSERT loop: ${(ingest.perSec / loop.perSec).toFixed(2)}×  (target ≥ 0.6×)`,
    `  ratio ingest / pooled INSERT: ${(ingest.perSec / pool.perSec).toFixed(2)}×`,
    `  ingest p99: ${ingest.p99.toFixed(2)} ms  (target < 20 ms)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  recordResults(
    'ingest',
    {
      requests: REQUESTS,
      warmup: WARMUP,
      concurrency: CONCURRENCY,
      sessions: SESSIONS,
      poolMax: POOL_MAX,
      store: 'PostgreSQL',
    },
    [
      {
        name: `signed ingest throughput (${CONCURRENCY} in flight, HTTP, 201)`,
        unit: 'req/s',
        value: ingest.perSec,
        baseline: { name: 'raw single-row INSERT loop, 1 connection', value: loop.perSec },
        ratio: ingest.perSec / loop.perSec,
        target: '≥ 0.6× the INSERT loop',
        pass: ingest.perSec / loop.perSec >= 0.6,
      },
      {
        name: `signed ingest throughput vs pooled INSERTs (${CONCURRENCY} in flight)`,
        unit: 'req/s',
        value: ingest.perSec,
        baseline: { name: `raw INSERT, ${CONCURRENCY} in flight over the pool`, value: pool.perSec },
        ratio: ingest.perSec / pool.perSec,
      },
      {
        name: 'signed ingest p99',
        unit: 'ms',
        value: ingest.p99,
        baseline: { name: `raw INSERT p99, ${CONCURRENCY} in flight over the pool`, value: pool.p99 },
        ratio: ingest.p99 / pool.p99,
        target: '< 20 ms',
        pass: ingest.p99 < 20,
      },
    ],
  );
} catch (error) {
  process.stderr.write(`bench failed: ${(error as Error).stack}\n`);
  process.exitCode = 1;
} finally {
  const step = (what: string) => process.env.BENCH_DEBUG && process.stderr.write(`${what}\n`);
  step('closing raw pool');
  loopClient?.release();
  await raw.end();
  step('closing gateway');
  await gateway.close();
  step('dropping database');
  await bench.drop();
  step('done');
}
process.exit(process.exitCode ?? 0);
