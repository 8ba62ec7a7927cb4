/**
 * npm run bench:orchestrate — 200 concurrent draft cycles, every role on a mock provider answering in 100 ms, on real
 * PostgreSQL (DATABASE_URL, default the local test server; a fresh database is created and dropped). Prints total wall
 * time against the ideal (3 × 100 ms, all parallel) and per-step overhead (a cycle's end minus the start of the
 * run minus the ideal, over its three steps).
 * The mock provider runs in its own process, as a real provider would be remote.
 */
import { spawn } from 'node:child_process';
import { sql } from 'drizzle-orm';
import { createGateway } from '../src/app.js';
import { loadConfig } from '../src/config/load-config.js';
import { queryRows } from '../src/db/database.js';
import { startMockProvider } from '../src/mock-provider/mock-provider.js';
import { createBenchDatabase, pct, recordResults } from './bench-support.js';

/** `startMockProvider` in a child process; resolves with its URL. */
function startMockProcess(latencyMs: number): Promise<{ url: string; close(): Promise<void> }> {
  // The built mock (dist/, as `agw mock-provider` runs it), like bench:proxy's.
  const code = `import('./dist/mock-provider/mock-provider.js').then(async (m) => {
    const p = await m.startMockProvider({ script: { default: { latencyMs: ${latencyMs} } } });
    console.log('URL ' + p.url);
  })`;
  const child = spawn(process.execPath, ['-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = /URL (\S+)/.exec(out);
      if (match)
        resolve({
          url: match[1] as string,
          close: () =>
            new Promise((done) => {
              child.once('exit', () => done());
              child.kill();
            }),
        });
    });
    child.once('exit', (code) => reject(new Error(`mock provider exited ${code}: ${out}`)));
  });
}

const CYCLES = Number(process.env.BENCH_CYCLES ?? 200);
const LATENCY_MS = 100;
const WARMUP_ROUNDS = Number(process.env.BENCH_ORCHESTRATE_WARMUP_ROUNDS ?? 5);

const bench = await createBenchDatabase();
// The provider is remote in production: the mock runs in its own process (BENCH_MOCK_IN_PROCESS=1 keeps the old
// setup, where the mock's HTTP serving shares the gateway's event loop).
const mock =
  process.env.BENCH_MOCK_IN_PROCESS === '1'
    ? await startMockProvider({ script: { default: { latencyMs: LATENCY_MS } } })
    : await startMockProcess(LATENCY_MS);
const gateway = await createGateway({
  config: loadConfig({
    DATABASE_URL: bench.url,
    DATABASE_POOL_MAX: '40',
    LOG_LEVEL: 'warn',
    ADMIN_API_TOKEN: 'bench-token-0123456789abcdef',
    AGENT_ORCHESTRATION_WORKER_CONCURRENCY: String(CYCLES),
    AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
    AI_RUNTIME_MOCK_KIND: 'openai',
    AI_RUNTIME_MOCK_ENDPOINT: `${mock.url}/v1`,
    AI_RUNTIME_MOCK_API_KEY: 'bench-key-0123456789',
    AI_RUNTIME_MOCK_MODEL: 'bench-model',
    AI_CRITIC_MODEL_CHAIN: 'mock',
    AI_MAKER_MODEL_CHAIN: 'mock',
    AI_JUDGE_MODEL_CHAIN: 'mock',
  }),
});
try {
  const headers = { 'x-admin-token': 'bench-token-0123456789abcdef', 'content-type': 'application/json' };
  const draft = (
    await gateway.app.inject({
      method: 'POST',
      url: '/api/admin/drafts',
      headers,
      payload: JSON.stringify({ title: 'bench', body: 'b' }),
    })
  ).json().draft as { id: string };
  // Warm-up outside the measurement: rounds of as many concurrent cycles, so the code V8 has optimised and the
  // keep-alive connections to the provider are what a gateway in service already has (with one round the measured
  // run took ~25 % longer: the request path was not optimised yet).
  for (let round = 0; round < WARMUP_ROUNDS; round++)
    await Promise.all(
      Array.from({ length: CYCLES }, () =>
        gateway.orchestrator.start({ draftId: draft.id, channel: 'bench_warmup', waitMs: 30_000 }),
      ),
    );

  const finishedRuns = async () =>
    (await gateway.metrics.orchestrationRuns.get()).values
      .filter((v) => v.labels.status === 'completed' || v.labels.status === 'failed')
      .reduce((n, v) => n + v.value, 0);
  const finishedBefore = await finishedRuns();
  const started = performance.now();
  const startedAt = Date.now();
  const runs = await Promise.all(
    Array.from({ length: CYCLES }, () =>
      gateway.orchestrator.start({ draftId: draft.id, channel: 'bench', async: true, waitMs: 0 }),
    ),
  );
  const enqueuedMs = performance.now() - started;
  const ids = runs.map((r) => r.runId);
  // Done when the gateway counted every run's end (its counter moves right after a run's final commit is
  // acknowledged), looked at every millisecond in this process, so the measured time does not include a poll
  // interval or the polling queries' load on the database.
  for (;;) {
    if ((await finishedRuns()) - finishedBefore >= CYCLES) break;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const wallMs = performance.now() - started;

  // Per-step overhead, per cycle: (when its final event committed − when the 200 starts were sent − the ideal
  // 3 × provider latency) / 3, on the one clock of this machine. (A cycle's own events cannot frame it: its first
  // role's call begins before `draft_cycle_started` commits, and a step's event commits while the next call runs.)
  const finals = await queryRows<{ created_at: string }>(
    gateway.database.orm,
    sql`select e.created_at
        from session_events e join orchestration_runs r on r.session_id = e.session_id
        where r.channel = 'bench' and e.type in ('draft_cycle_completed', 'draft_cycle_failed')`,
  );
  const overheads = finals.map(
    (event) => (new Date(event.created_at).getTime() - startedAt - 3 * LATENCY_MS) / 3,
  );
  const failed = (
    await queryRows<{ n: number }>(
      gateway.database.orm,
      sql`select count(*)::int as n from orchestration_runs where channel = 'bench' and status = 'failed'`,
    )
  )[0]?.n;
  const ideal = 3 * LATENCY_MS;
  console.log(`bench:orchestrate — ${CYCLES} concurrent cycles, providers at ${LATENCY_MS} ms, PostgreSQL`);
  console.log(`  runs: ${ids.length} started (enqueue ${enqueuedMs.toFixed(0)} ms), failed ${failed}`);
  console.log(
    `  wall time: ${wallMs.toFixed(0)} ms; ideal ${ideal} ms; ratio ${(wallMs / ideal).toFixed(2)}× (target ≤ 1.3×)`,
  );
  console.log(
    `  per-step overhead ((cycle end − start − 3 × latency) / 3): p50 ${pct(overheads, 50).toFixed(0)} ms, p99 ${pct(overheads, 99).toFixed(0)} ms over ${overheads.length} cycles`,
  );
  recordResults(
    'orchestrate',
    { cycles: CYCLES, providerLatencyMs: LATENCY_MS, warmupRounds: WARMUP_ROUNDS, store: 'PostgreSQL' },
    [
      {
        name: `wall time of ${CYCLES} concurrent draft cycles (${failed ?? 0} failed)`,
        unit: 'ms',
        value: wallMs,
        baseline: { name: `ideal: 3 steps × ${LATENCY_MS} ms, all parallel`, value: ideal },
        ratio: wallMs / ideal,
        target: '≤ 1.3× ideal',
        pass: wallMs / ideal <= 1.3 && failed === 0,
      },
      {
        name: 'per-step overhead p50 ((cycle end − start − 3 × latency) / 3)',
        unit: 'ms',
        value: pct(overheads, 50),
      },
      {
        name: 'per-step overhead p99 ((cycle end − start − 3 × latency) / 3)',
        unit: 'ms',
        value: pct(overheads, 99),
      },
    ],
  );
} finally {
  await gateway.close();
  await mock.close();
  await bench.drop();
}
