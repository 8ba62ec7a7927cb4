/**
 * `npm run bench:proxy`: what `/v1/chat/completions` adds to a call. The same client sends the same request to the
 * mock provider directly and through the gateway (default upstream = the mock): sequential and 50 in flight with an
 * undici Pool (µs-precise latency), then autocannon at 50 connections for throughput. The mock and the gateway run
 * in child processes (built code from dist/, as `npm start` runs it) so their CPU does not mix with the client.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Pool } from 'undici';

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 2000);
const CONCURRENCY = 50;
const PER_WORKER = Number(process.env.BENCH_PER_WORKER ?? 60);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';
const KEY = 'sk-bench-0123456789abcdef';
const BODY = JSON.stringify({
  model: 'bench-model',
  messages: [{ role: 'user', content: 'benchmark prompt' }],
});

/** CPU seconds (user + system) a child process has used so far, from /proc (Linux); null elsewhere. */
function cpuSeconds(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

function startChild(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, args, {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d;
      const match = ready.exec(out);
      if (match) resolve({ url: match[1] as string, child });
    });
    child.once('exit', (code) => reject(new Error(`child exited ${code}: ${out}`)));
  });
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const fmt = (ms: number) => `${ms.toFixed(3)} ms`;

async function main() {
  const mockCode =
    "import('./dist/mock-provider/mock-provider.js').then(async (m) => { const p = await m.startMockProvider({}); console.log('URL ' + p.url); })";
  const mock = await startChild(['-e', mockCode], process.env, /URL (\S+)/);
  const dataDir = mkdtempSync(join(tmpdir(), 'agw-bench-'));
  const gateway = await startChild(
    [
      ...(process.env.BENCH_GATEWAY_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=.tmp/prof'] : []),
      'dist/main.js',
    ],
    {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: '0',
      AGW_DATA_DIR: dataDir,
      LOG_LEVEL,
      ADMIN_API_TOKEN: 'bench-admin-token-0123456789',
      GATEWAY_API_KEYS: KEY,
      AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
      AI_RUNTIME_DEFAULT_UPSTREAM: `${mock.url}/v1`,
    },
    /listening on (http:\/\/\S+)/,
  );
  const gatewayUrl = gateway.url.replace('localhost', '127.0.0.1');

  const targets = {
    direct: { origin: mock.url, headers: { 'content-type': 'application/json' } },
    gateway: {
      origin: gatewayUrl,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    },
  };
  const pools = {
    direct: new Pool(mock.url, { connections: 128 }),
    gateway: new Pool(gatewayUrl, { connections: 128 }),
  };
  const call = async (side: 'direct' | 'gateway') => {
    const res = await pools[side].request({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: targets[side].headers,
      body: BODY,
    });
    const json = (await res.body.json()) as { choices?: { message: { content: string } }[] };
    if (res.statusCode !== 200 || !json.choices?.[0]?.message.content)
      throw new Error(`${side}: ${res.statusCode}`);
  };
  const timed = async (side: 'direct' | 'gateway', into: number[]) => {
    const t0 = performance.now();
    await call(side);
    into.push(performance.now() - t0);
  };

  for (let i = 0; i < 500; i++) {
    await call('direct');
    await call('gateway');
  }
  const seq = { direct: [] as number[], gateway: [] as number[] };
  for (let i = 0; i < SEQUENTIAL; i++) {
    // Alternate so drift (GC, CPU frequency) hits both sides equally.
    await timed('direct', seq.direct);
    await timed('gateway', seq.gateway);
  }
  // Background work of an idle gateway (pg-boss polling the embedded store): measured, then subtracted.
  const idleStart = cpuSeconds(gateway.child.pid);
  const idleT0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const idleRate =
    ((cpuSeconds(gateway.child.pid) ?? 0) - (idleStart ?? 0)) / ((performance.now() - idleT0) / 1000);
  const con = { direct: [] as number[], gateway: [] as number[] };
  const gatewayCpuBefore = cpuSeconds(gateway.child.pid);
  const mockCpuBefore = cpuSeconds(mock.child.pid);
  const loadT0 = performance.now();
  for (let round = 0; round < 4; round++) {
    for (const side of ['direct', 'gateway'] as const) {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let i = 0; i < PER_WORKER; i++) await timed(side, con[side]);
        }),
      );
    }
  }

  // The gateway's own CPU per call does not depend on how busy the machine is (other test runs share it).
  const loadSeconds = (performance.now() - loadT0) / 1000;
  const gatewayCpu = (cpuSeconds(gateway.child.pid) ?? 0) - (gatewayCpuBefore ?? 0) - idleRate * loadSeconds;
  const mockCpu = (cpuSeconds(mock.child.pid) ?? 0) - (mockCpuBefore ?? 0);
  const cannon = (side: 'direct' | 'gateway') =>
    autocannon({
      url: `${targets[side].origin}/v1/chat/completions`,
      method: 'POST',
      headers: targets[side].headers,
      body: BODY,
      connections: CONCURRENCY,
      duration: DURATION_S,
    });
  const thr = { direct: await cannon('direct'), gateway: await cannon('gateway') };

  console.log(
    `Proxy benchmark — node ${process.version}, gateway LOG_LEVEL=${LOG_LEVEL}, mock and gateway in child processes`,
  );
  const report = (label: string, d: number[], g: number[]) => {
    const ds = [...d].sort((a, b) => a - b);
    const gs = [...g].sort((a, b) => a - b);
    console.log(`\n${label} (${d.length} calls each, undici Pool client)`);
    console.log(`  direct   p50 ${fmt(pct(ds, 50))}  p99 ${fmt(pct(ds, 99))}`);
    console.log(`  gateway  p50 ${fmt(pct(gs, 50))}  p99 ${fmt(pct(gs, 99))}`);
    console.log(
      `  added    p50 ${fmt(pct(gs, 50) - pct(ds, 50))}  p99 ${fmt(pct(gs, 99) - pct(ds, 99))}  (target added p50 ≤ 0.5 ms)`,
    );
  };
  report('Sequential', seq.direct, seq.gateway);
  report(`Concurrent (${CONCURRENCY} in flight)`, con.direct, con.gateway);
  if (gatewayCpuBefore !== null) {
    const perCall = (seconds: number, calls: number) => `${((seconds * 1e6) / calls).toFixed(0)} µs`;
    console.log(
      `  CPU per call (50 in flight): gateway process ${perCall(gatewayCpu, con.gateway.length)}, mock ${perCall(mockCpu, con.direct.length + con.gateway.length)}` +
        ` (idle gateway background ${(idleRate * 100).toFixed(1)}% of a CPU, subtracted)`,
    );
  }
  console.log(
    `  load average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${cpus().length} CPUs`,
  );
  console.log(`\nThroughput (autocannon, ${CONCURRENCY} connections, ${DURATION_S} s each)`);
  for (const side of ['direct', 'gateway'] as const) {
    const r = thr[side];
    console.log(
      `  ${side.padEnd(8)} ${Math.round(r.requests.average)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  errors ${r.errors}  non-2xx ${r.non2xx}`,
    );
  }
  console.log(
    `  ratio    gateway/direct ${(thr.gateway.requests.average / thr.direct.requests.average).toFixed(3)}×`,
  );
  console.log('  Portkey side by side: not measured (@portkey-ai/gateway is not installed)');

  await Promise.all([pools.direct.close(), pools.gateway.close()]);
  gateway.child.kill('SIGTERM');
  mock.child.kill('SIGTERM');
  await new Promise((resolve) => gateway.child.once('exit', resolve));
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
