/**
 * `npm run bench:runtime`: what the AI runtime adds to a call, and what the circuit breaker saves when a primary hangs.
 * The mock provider runs in a child process so its CPU does not mix with the measured client.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/load-config.js';
import { createProviderRegistry } from '../src/providers/provider-registry.js';
import { UpstreamClient } from '../src/providers/upstream-client.js';
import { AiRuntime } from '../src/runtime/ai-runtime.js';
import { ChainRunner } from '../src/runtime/chain-runner.js';
import type { CircuitGate } from '../src/runtime/circuit-breaker.js';
import { systemClock } from '../src/runtime/clock.js';
import { loadRuntimeDefinition } from '../src/runtime/runtime-config.js';
import { type BenchFigure, recordResults } from './bench-support.js';

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 3000);
const CONCURRENCY = 50;
const PER_WORKER = Number(process.env.BENCH_PER_WORKER ?? 60);
const HUNG_CALLS = 200;

async function startMockChild(): Promise<{ url: string; child: ChildProcess }> {
  const code =
    "import('./src/mock-provider/mock-provider.ts').then(async (m) => { const p = await m.startMockProvider({}); console.log('URL ' + p.url); })";
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d;
      const match = /URL (\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (c) => reject(new Error(`mock exited ${c}`)));
  });
  return { url, child };
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const fmt = (ms: number) => `${ms.toFixed(3)} ms`;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function env(url: string, extra: Record<string, string> = {}) {
  return loadRuntimeDefinition(
    loadConfig({
      AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
      AI_CRITIC_MODEL_CHAIN: 'bench',
      AI_RUNTIME_BENCH_KIND: 'openai',
      AI_RUNTIME_BENCH_ENDPOINT: `${url}/v1`,
      AI_RUNTIME_BENCH_API_KEY: 'sk-bench',
      AI_RUNTIME_BENCH_MODEL: 'bench-model',
      ...extra,
    }),
  );
}

async function main() {
  const { url, child } = await startMockChild();
  const client = new UpstreamClient({ httpTimeoutMs: 20_000 });
  const runtime = new AiRuntime({ definition: env(url) });
  const pool = client.pool(new URL(url).origin);

  // Baseline: the same undici Pool, the same request, parsed the same way, no runtime.
  const direct = async () => {
    const res = await pool.request({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
      body: JSON.stringify({
        model: 'bench-model',
        messages: [{ role: 'user', content: 'benchmark prompt' }],
      }),
    });
    const json = (await res.body.json()) as { choices: { message: { content: string } }[] };
    if (!json.choices[0]?.message.content) throw new Error('empty');
  };
  const viaRuntime = async () => {
    const result = await runtime.runRole({ role: 'critic', prompt: 'benchmark prompt' });
    if (result.failed) throw new Error(JSON.stringify(result.attempts));
  };
  const timed = async (fn: () => Promise<void>, into: number[]) => {
    const t0 = performance.now();
    await fn();
    into.push(performance.now() - t0);
  };

  for (let i = 0; i < 300; i++) {
    await direct();
    await viaRuntime();
  }

  const seqDirect: number[] = [];
  const seqRuntime: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    // Alternate so drift (GC, CPU frequency) hits both sides equally.
    await timed(direct, seqDirect);
    await timed(viaRuntime, seqRuntime);
  }

  const concurrent = async (fn: () => Promise<void>) => {
    const samples: number[] = [];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = 0; i < PER_WORKER; i++) await timed(fn, samples);
      }),
    );
    return samples;
  };
  // Client CPU per call isolates what the runtime costs from queueing (50 in flight multiply every µs).
  const cpuMicros = (u: NodeJS.CpuUsage) => u.user + u.system;
  let cpuDirect = 0;
  let cpuRuntime = 0;
  const conDirect: number[] = [];
  const conRuntime: number[] = [];
  for (let round = 0; round < 4; round++) {
    let cpu = process.cpuUsage();
    conDirect.push(...(await concurrent(direct)));
    cpuDirect += cpuMicros(process.cpuUsage(cpu));
    cpu = process.cpuUsage();
    conRuntime.push(...(await concurrent(viaRuntime)));
    cpuRuntime += cpuMicros(process.cpuUsage(cpu));
  }

  const figures: BenchFigure[] = [];
  const report = (label: string, d: number[], r: number[]) => {
    const ds = [...d].sort((a, b) => a - b);
    const rs = [...r].sort((a, b) => a - b);
    const p50 = pct(rs, 50) - pct(ds, 50);
    figures.push({
      name: `runRole added p50, ${label.toLowerCase()}`,
      unit: 'ms',
      value: p50,
      baseline: { name: 'direct call p50 (same undici pool)', value: pct(ds, 50) },
      ratio: pct(rs, 50) / pct(ds, 50),
      target: 'added p50 ≤ 0.5 ms',
      pass: p50 <= 0.5,
    });
    const p99 = pct(rs, 99) - pct(ds, 99);
    console.log(`\n${label} (${d.length} calls each)`);
    console.log(`  direct   p50 ${fmt(pct(ds, 50))}  p99 ${fmt(pct(ds, 99))}  mean ${fmt(mean(d))}`);
    console.log(`  runRole  p50 ${fmt(pct(rs, 50))}  p99 ${fmt(pct(rs, 99))}  mean ${fmt(mean(r))}`);
    console.log(
      `  added    p50 ${fmt(p50)}  p99 ${fmt(p99)}  ratio p50 ${(pct(rs, 50) / pct(ds, 50)).toFixed(3)}×  (target added p50 ≤ 0.5 ms)`,
    );
  };
  console.log(`AI runtime benchmark — node ${process.version}, mock provider in a child process at ${url}`);
  report('Sequential', seqDirect, seqRuntime);
  report(`Concurrent (${CONCURRENCY} in flight)`, conDirect, conRuntime);
  const perCall = (micros: number, n: number) => `${(micros / n).toFixed(1)} µs`;
  console.log(
    `  client CPU per call: direct ${perCall(cpuDirect, conDirect.length)}, runRole ${perCall(cpuRuntime, conRuntime.length)}, ` +
      `added ${perCall(cpuRuntime - cpuDirect, conRuntime.length)}`,
  );

  // Hung primary: the first chain entry never answers; attempt timeout 2 s; the fallback answers at once.
  const hungEnv = {
    AI_CRITIC_MODEL_CHAIN: 'hung,bench',
    AI_RUNTIME_HUNG_KIND: 'openai',
    AI_RUNTIME_HUNG_ENDPOINT: `${url}/v1`,
    AI_RUNTIME_HUNG_API_KEY: 'sk-bench',
    AI_RUNTIME_HUNG_MODEL: 'mock-hang',
    AI_RUNTIME_ATTEMPT_TIMEOUT_MS: '2000',
  };
  const withBreaker = new AiRuntime({ definition: env(url, hungEnv) });
  const openGate: CircuitGate = {
    acquire: async () => ({ allowed: true, probe: false }),
    success: async () => undefined,
    failure: async () => undefined,
    release: async () => undefined,
  };
  const noBreakerClient = new UpstreamClient({ httpTimeoutMs: 20_000 });
  const withoutBreaker = new ChainRunner({
    definition: env(url, hungEnv),
    adapters: createProviderRegistry({ client: noBreakerClient, sleep: systemClock.sleep }),
    gate: openGate,
    clock: systemClock,
    random: Math.random,
  });
  const hungRun = (run: () => Promise<unknown>) => async () => {
    const t0 = performance.now();
    await run();
    return performance.now() - t0;
  };
  const runWith = hungRun(() => withBreaker.runRole({ role: 'critic', prompt: 'p' }));
  const runWithout = hungRun(() => withoutBreaker.runRole({ role: 'critic', prompt: 'p' }));

  const sequentialWith: number[] = [];
  for (let i = 0; i < HUNG_CALLS; i++) sequentialWith.push(await runWith());
  // Without a breaker every call is independent and waits the full timeout, so running them at once gives the same
  // per-call latency as running them one after another (which would take 200 × 2 s).
  const without = await Promise.all(Array.from({ length: HUNG_CALLS }, () => runWithout()));
  console.log(`\nHung primary (attempt timeout 2 s, ${HUNG_CALLS} calls, fallback answers)`);
  console.log(`  with circuit breaker (sequential)  mean ${fmt(mean(sequentialWith))}`);
  console.log(`  without breaker                    mean ${fmt(mean(without))}`);
  console.log(`  ratio ${(mean(sequentialWith) / mean(without)).toFixed(4)}×  (target ≤ 0.05×)`);
  figures.push({
    name: 'hung primary: mean call with circuit breaker',
    unit: 'ms',
    value: mean(sequentialWith),
    baseline: { name: 'without breaker', value: mean(without) },
    ratio: mean(sequentialWith) / mean(without),
    target: 'ratio ≤ 0.05×',
    pass: mean(sequentialWith) / mean(without) <= 0.05,
  });

  await withBreaker.breaker.store.clear();
  const burstWith: number[] = [];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      for (let i = w; i < HUNG_CALLS; i += CONCURRENCY) burstWith.push(await runWith());
    }),
  );
  console.log(
    `  with circuit breaker, ${CONCURRENCY} in flight: mean ${fmt(mean(burstWith))} (the first ${CONCURRENCY} calls are in flight before the circuit opens)`,
  );

  recordResults(
    'runtime',
    { sequentialCalls: SEQUENTIAL, concurrency: CONCURRENCY, perWorker: PER_WORKER, hungCalls: HUNG_CALLS },
    figures,
  );
  await Promise.all([runtime.close(), withBreaker.close(), client.close(), noBreakerClient.close()]);
  child.kill('SIGTERM');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
