/**
 * `npm run bench:proxy`: what `/v1/chat/completions` adds to a call. The same client sends the same request to the
 * mock provider directly and through the gateway (default upstream = the mock): sequential and 50 in flight with an
 * undici Pool (µs-precise latency), then autocannon at 50 connections for throughput. The mock and the gateway run
 * in child processes (built code from dist/, as `npm start` runs it) so their CPU does not mix with the client.
 * Portkey's OSS gateway (a dev dependency) is measured on the same mock in the same run for the throughput target.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { type BenchFigure, createBenchDatabase, recordResults } from './bench-support.js';

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 2000);
const CONCURRENCY = 50;
const PER_WORKER = Number(process.env.BENCH_PER_WORKER ?? 60);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const THROUGHPUT_ROUNDS = Number(process.env.BENCH_THROUGHPUT_ROUNDS ?? 3);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';
/** Redis for the shared-circuits side (skipped, and said so, when unset). */
const REDIS_URL = process.env.REDIS_URL;
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

/** Every child this bench starts, stopped when it exits however it exits (a failed run leaves nothing behind). */
const spawned: ChildProcess[] = [];
process.on('exit', () => {
  for (const child of spawned) if (child.exitCode === null) child.kill('SIGTERM');
});

function startChild(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, args, {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  spawned.push(child);
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

/** The floor of any proxy hop on this machine: node:http + the same undici Pool, no framework, no checks. */
const bareProxyCode = `
import('undici').then(({ Pool }) => {
  const pool = new Pool(process.argv[1], { connections: 128 });
  require('node:http').createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = JSON.parse(Buffer.concat(chunks).toString());
      const up = await pool.request({ method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await up.body.text();
      JSON.parse(text);
      res.writeHead(up.statusCode, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  }).listen(0, '127.0.0.1', function () { console.log('URL http://127.0.0.1:' + this.address().port); });
});`;

/**
 * Portkey's OSS gateway (`@portkey-ai/gateway`, a dev dependency) on the same mock, when it is installed: started
 * `--headless` in a child process, pointed at the mock with `x-portkey-custom-host` (which must include `/v1`),
 * warmed up with 500 sequential calls (the p50 of the last 300 is its sequential latency).
 */
async function startPortkey(mockUrl: string, processes = 1) {
  let entry: string;
  let version: string;
  try {
    const require = createRequire(import.meta.url);
    const manifest = require.resolve('@portkey-ai/gateway/package.json');
    entry = join(dirname(manifest), 'build', 'start-server.js');
    version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
  const port = await freePort();
  const args = ['--headless', `--port=${port}`];
  // Portkey has no cluster mode of its own; for the like-for-like line, node:cluster forks it `processes` times on
  // one port, as a process manager would.
  let launcher: string | undefined;
  if (processes > 1) {
    // A file, not `node -e`: a forked worker re-runs its parent's entry, and `-e` has none to re-run.
    launcher = join(mkdtempSync(join(tmpdir(), 'agw-bench-portkey-')), 'cluster.cjs');
    writeFileSync(
      launcher,
      `const cluster = require('node:cluster');
cluster.setupPrimary({ exec: ${JSON.stringify(entry)}, args: ${JSON.stringify(args)} });
for (let i = 0; i < ${processes}; i++) cluster.fork();
process.on('SIGTERM', () => { for (const w of Object.values(cluster.workers)) w.kill('SIGTERM'); process.exit(0); });
`,
    );
  }
  const child = spawn(process.execPath, launcher ? [launcher] : [entry, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  spawned.push(child);
  const stop = () => {
    child.kill('SIGTERM');
    if (launcher) rmSync(dirname(launcher), { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d;
        if (out.split('Ready for connections').length > processes) resolve();
      });
      child.once('exit', (code) => reject(new Error(`Portkey exited ${code}: ${out.slice(-500)}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${KEY}`,
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `${mockUrl}/v1`,
    };
    const pool = new Pool(url, { connections: 128 });
    const latencies: number[] = [];
    for (let i = 0; i < 500; i++) {
      const t0 = performance.now();
      const res = await pool.request({ method: 'POST', path: '/v1/chat/completions', headers, body: BODY });
      const json = (await res.body.json()) as { choices?: unknown[] };
      if (res.statusCode !== 200 || !json.choices) throw new Error(`Portkey answered ${res.statusCode}`);
      if (i >= 200) latencies.push(performance.now() - t0);
    }
    await pool.close();
    latencies.sort((a, b) => a - b);
    return { version, url, headers, sequentialP50: pct(latencies, 50), stop, pid: child.pid };
  } catch (error) {
    stop();
    throw error;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

type Side = 'direct' | 'bare' | 'gateway';
const sides: Side[] = ['direct', 'bare', 'gateway'];

async function main() {
  // Production runs on PostgreSQL: a fresh bench database on the DATABASE_URL server (default the local one).
  // BENCH_EMBEDDED=1 uses the embedded store instead, whose background work (job polling) then runs in the
  // gateway's own process and shows up in its CPU.
  const store = process.env.BENCH_EMBEDDED === '1' ? undefined : await createBenchDatabase();
  const mockCode =
    "import('./dist/mock-provider/mock-provider.js').then(async (m) => { const p = await m.startMockProvider({}); console.log('URL ' + p.url); })";
  const mock = await startChild(['-e', mockCode], process.env, /URL (\S+)/);
  const bare = await startChild(['-e', bareProxyCode, mock.url], process.env, /URL (\S+)/);
  const dataDirs: string[] = [];
  const startGateway = (extraEnv: NodeJS.ProcessEnv = {}) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'agw-bench-'));
    dataDirs.push(dataDir);
    return startChild(
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
        ...(store ? { DATABASE_URL: store.url } : {}),
        ...extraEnv,
      },
      /listening on (http:\/\/\S+)/,
    );
  };
  const gateway = await startGateway();
  const origins: Record<Side, string> = {
    direct: mock.url,
    bare: bare.url,
    gateway: gateway.url.replace('localhost', '127.0.0.1'),
  };
  // Every side gets the same headers (the mock and the bare proxy ignore the key).
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };
  const pools = Object.fromEntries(
    sides.map((side) => [side, new Pool(origins[side], { connections: 128 })]),
  ) as Record<Side, Pool>;
  const call = async (side: Side) => {
    const res = await pools[side].request({
      method: 'POST',
      path: '/v1/chat/completions',
      headers,
      body: BODY,
    });
    const json = (await res.body.json()) as { choices?: { message: { content: string } }[] };
    if (res.statusCode !== 200 || !json.choices?.[0]?.message.content)
      throw new Error(`${side}: ${res.statusCode}`);
  };
  const timed = async (side: Side, into: number[]) => {
    const t0 = performance.now();
    await call(side);
    into.push(performance.now() - t0);
  };
  const samples = () => ({ direct: [] as number[], bare: [] as number[], gateway: [] as number[] });

  for (let i = 0; i < 500; i++) for (const side of sides) await call(side);
  const seq = samples();
  for (let i = 0; i < SEQUENTIAL; i++) {
    // Interleave so drift (GC, CPU frequency, other load on the machine) hits every side equally.
    for (const side of sides) await timed(side, seq[side]);
  }
  // Background work of an idle gateway (pg-boss polling its store): measured, then subtracted.
  const idleStart = cpuSeconds(gateway.child.pid);
  const idleT0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const idleRate =
    ((cpuSeconds(gateway.child.pid) ?? 0) - (idleStart ?? 0)) / ((performance.now() - idleT0) / 1000);
  const con = samples();
  const cpu = { bare: 0, gateway: 0 };
  for (let round = 0; round < 4; round++) {
    for (const side of sides) {
      const pid = side === 'gateway' ? gateway.child.pid : bare.child.pid;
      const before = cpuSeconds(pid) ?? 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let i = 0; i < PER_WORKER; i++) await timed(side, con[side]);
        }),
      );
      const used = (cpuSeconds(pid) ?? 0) - before;
      if (side === 'gateway') cpu.gateway += used - idleRate * ((performance.now() - t0) / 1000);
      if (side === 'bare') cpu.bare += used;
    }
  }

  const portkey = await startPortkey(mock.url);
  const cannon = (url: string, headers: Record<string, string>) =>
    autocannon({
      url: `${url}/v1/chat/completions`,
      method: 'POST',
      headers,
      body: BODY,
      connections: CONCURRENCY,
      duration: DURATION_S,
    });
  // Throughput: THROUGHPUT_ROUNDS interleaved rounds of every side (Portkey included), each side's median round
  // reported, so a passing disturbance on this shared machine moves one round, not the comparison.
  type Cannon = Awaited<ReturnType<typeof cannon>>;
  const rounds = {
    direct: [] as Cannon[],
    bare: [] as Cannon[],
    gateway: [] as Cannon[],
    portkey: [] as Cannon[],
  };
  // CPU per request of each proxy in its throughput rounds (from /proc): what each costs, whatever else the machine
  // is doing at the time, so the ratio holds on a machine whose cores are not shared with the client and the mock.
  const cpuPerRequest = { bare: [] as number[], gateway: [] as number[], portkey: [] as number[] };
  // The gateway's idle background (job polling), measured above, is subtracted as in the 50-in-flight line.
  const measured = async (
    into: number[] | undefined,
    pid: number | undefined,
    url: string,
    sideHeaders: Record<string, string>,
    background = 0,
  ) => {
    const before = cpuSeconds(pid);
    const t0 = performance.now();
    const result = await cannon(url, sideHeaders);
    const after = cpuSeconds(pid);
    const busy = (after ?? 0) - (before ?? 0) - background * ((performance.now() - t0) / 1000);
    if (into && before !== null && after !== null && result.requests.total > 0)
      into.push((busy * 1e6) / result.requests.total);
    return result;
  };
  const pids = { direct: undefined, bare: bare.child.pid, gateway: gateway.child.pid };
  for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
    for (const side of sides)
      rounds[side].push(
        await measured(
          side === 'direct' ? undefined : cpuPerRequest[side],
          pids[side],
          origins[side],
          headers,
          side === 'gateway' ? idleRate : 0,
        ),
      );
    if (portkey)
      rounds.portkey.push(await measured(cpuPerRequest.portkey, portkey.pid, portkey.url, portkey.headers));
  }
  const median = (runs: Cannon[]) =>
    [...runs].sort((a, b) => a.requests.average - b.requests.average)[Math.floor(runs.length / 2)]!;

  const thr = { direct: median(rounds.direct), bare: median(rounds.bare), gateway: median(rounds.gateway) };

  // Production: several replicas share circuits through Redis, and a host runs AGW_WORKERS=auto (one worker per CPU).
  // Measured in a second phase, interleaved with the single-process gateway and with Portkey as it ships and forked
  // to as many processes (like for like), so every comparison here is same-phase.
  const workerCount = availableParallelism();
  const deployed = {
    memory: [] as Cannon[],
    redis: [] as Cannon[],
    workers: [] as Cannon[],
    portkey: [] as Cannon[],
    portkeyWorkers: [] as Cannon[],
  };
  if (REDIS_URL) {
    const shared = await startGateway({ REDIS_URL });
    const multi = await startGateway({ REDIS_URL, AGW_WORKERS: 'auto' });
    const portkeyMulti = portkey ? await startPortkey(mock.url, workerCount) : undefined;
    const urls = {
      memory: origins.gateway,
      redis: shared.url.replace('localhost', '127.0.0.1'),
      workers: multi.url.replace('localhost', '127.0.0.1'),
    };
    // Warm-up (the second worker may still be starting when the first prints the banner).
    await cannon(urls.redis, headers);
    await cannon(urls.workers, headers);
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
      for (const side of ['memory', 'redis', 'workers'] as const)
        deployed[side].push(await cannon(urls[side], headers));
      if (portkey) deployed.portkey.push(await cannon(portkey.url, portkey.headers));
      if (portkeyMulti) deployed.portkeyWorkers.push(await cannon(portkeyMulti.url, portkeyMulti.headers));
    }
    portkeyMulti?.stop();
    for (const child of [shared.child, multi.child]) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  portkey?.stop();

  console.log(
    `Proxy benchmark — node ${process.version}, gateway LOG_LEVEL=${LOG_LEVEL}, store ${store ? 'PostgreSQL' : 'embedded PGlite'}; mock, bare proxy and gateway in child processes`,
  );
  const figures: BenchFigure[] = [];
  const report = (label: string, set: Record<Side, number[]>) => {
    const sorted = Object.fromEntries(sides.map((s) => [s, [...set[s]].sort((a, b) => a - b)])) as Record<
      Side,
      number[]
    >;
    const added = pct(sorted.gateway, 50) - pct(sorted.direct, 50);
    figures.push({
      name: `/v1 gateway added p50, ${label.toLowerCase()}`,
      unit: 'ms',
      value: added,
      baseline: { name: 'direct to the mock p50', value: pct(sorted.direct, 50) },
      ratio: pct(sorted.gateway, 50) / pct(sorted.direct, 50),
      target: 'added p50 ≤ 0.5 ms',
      pass: added <= 0.5,
    });
    figures.push({
      name: `/v1 bare proxy hop added p50, ${label.toLowerCase()} (floor of any proxy)`,
      unit: 'ms',
      value: pct(sorted.bare, 50) - pct(sorted.direct, 50),
      baseline: { name: 'direct to the mock p50', value: pct(sorted.direct, 50) },
      ratio: pct(sorted.bare, 50) / pct(sorted.direct, 50),
    });
    console.log(`\n${label} (${set.direct.length} calls each, undici Pool client)`);
    for (const side of sides) {
      const added =
        side === 'direct'
          ? ''
          : `  added p50 ${fmt(pct(sorted[side], 50) - pct(sorted.direct, 50))}  p99 ${fmt(pct(sorted[side], 99) - pct(sorted.direct, 99))}`;
      console.log(
        `  ${side.padEnd(8)} p50 ${fmt(pct(sorted[side], 50))}  p99 ${fmt(pct(sorted[side], 99))}${added}`,
      );
    }
  };
  report('Sequential', seq);
  report(`Concurrent (${CONCURRENCY} in flight)`, con);
  const perCall = (seconds: number, calls: number) => `${((seconds * 1e6) / calls).toFixed(0)} µs`;
  console.log(
    `  CPU per call at 50 in flight: gateway ${perCall(cpu.gateway, con.gateway.length)}, bare proxy ${perCall(cpu.bare, con.bare.length)}` +
      ` (idle gateway background ${(idleRate * 100).toFixed(1)}% of a CPU, subtracted)`,
  );
  console.log(
    `\nThroughput (autocannon, ${CONCURRENCY} connections, ${DURATION_S} s each; median of ${THROUGHPUT_ROUNDS} interleaved rounds)`,
  );
  const roundsText = (runs: Cannon[]) => runs.map((r) => Math.round(r.requests.average)).join(' / ');
  for (const side of sides) {
    const r = thr[side];
    console.log(
      `  ${side.padEnd(8)} ${Math.round(r.requests.average)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  errors ${r.errors}  non-2xx ${r.non2xx}  (rounds ${roundsText(rounds[side])})`,
    );
  }
  const ratio = (side: Side) => (thr[side].requests.average / thr.direct.requests.average).toFixed(3);
  console.log(`  ratio to direct: bare proxy ${ratio('bare')}×, gateway ${ratio('gateway')}×`);
  if (portkey) {
    const r = median(rounds.portkey);
    const failures = rounds.portkey.reduce((n, run) => n + run.errors + run.non2xx, 0);
    console.log(
      `  portkey  ${Math.round(r.requests.average)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  errors ${r.errors}  non-2xx ${r.non2xx}  (rounds ${roundsText(rounds.portkey)})` +
        `  (@portkey-ai/gateway ${portkey.version}, --headless, same mock via x-portkey-custom-host; sequential p50 ${fmt(portkey.sequentialP50)})`,
    );
    console.log(
      `  gateway / Portkey: ${(thr.gateway.requests.average / r.requests.average).toFixed(1)}× the requests per second (target ≥ 10×)`,
    );
    // The ceiling for any proxy built on node:http + undici on this machine: the bare hop against Portkey.
    const bareRatio = thr.bare.requests.average / r.requests.average;
    const cpuMedian = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
    const cpuOf = {
      bare: cpuMedian(cpuPerRequest.bare),
      gateway: cpuMedian(cpuPerRequest.gateway),
      portkey: cpuMedian(cpuPerRequest.portkey),
    };
    console.log(
      `  bare proxy / Portkey: ${bareRatio.toFixed(1)}× (the most a node:http + undici hop reaches here; the gateway does ${((100 * thr.gateway.requests.average) / thr.bare.requests.average).toFixed(0)}% of it)`,
    );
    console.log(
      `  CPU per request in these rounds (median): gateway ${cpuOf.gateway.toFixed(0)} µs, bare proxy ${cpuOf.bare.toFixed(0)} µs, Portkey ${cpuOf.portkey.toFixed(0)} µs` +
        ` — Portkey uses ${(cpuOf.portkey / cpuOf.gateway).toFixed(1)}× the gateway's CPU per request (${(cpuOf.portkey / cpuOf.bare).toFixed(1)}× the bare hop's)`,
    );
    figures.push({
      name: `/v1 bare proxy hop throughput vs Portkey OSS (${CONCURRENCY} connections; ceiling for a node:http proxy here)`,
      unit: 'req/s',
      value: thr.bare.requests.average,
      baseline: { name: `Portkey OSS ${portkey.version} on the same mock`, value: r.requests.average },
      ratio: bareRatio,
    });
    figures.push({
      name: '/v1 CPU per request: Portkey OSS vs the gateway (same throughput rounds)',
      unit: 'µs',
      value: cpuOf.gateway,
      baseline: { name: `Portkey OSS ${portkey.version}`, value: cpuOf.portkey },
      ratio: cpuOf.portkey / cpuOf.gateway,
    });
    figures.push({
      name: `/v1 throughput through the gateway vs Portkey OSS (${CONCURRENCY} connections, median of ${THROUGHPUT_ROUNDS})`,
      unit: 'req/s',
      value: thr.gateway.requests.average,
      baseline: { name: `Portkey OSS ${portkey.version} on the same mock`, value: r.requests.average },
      ratio: thr.gateway.requests.average / r.requests.average,
      target: "≥ 10× Portkey's req/s",
      pass: thr.gateway.requests.average >= 10 * r.requests.average && failures === 0,
    });
  } else {
    console.log('  Portkey side by side: not measured (@portkey-ai/gateway is not installed)');
  }
  if (REDIS_URL) {
    const m = Object.fromEntries(
      Object.entries(deployed)
        .filter(([, runs]) => runs.length > 0)
        .map(([side, runs]) => [side, median(runs)]),
    ) as Partial<Record<keyof typeof deployed, Cannon>>;
    const line = (label: string, side: keyof typeof deployed) => {
      const r = m[side];
      if (!r) return;
      console.log(
        `  ${label.padEnd(44)} ${Math.round(r.requests.average)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  errors ${r.errors}  non-2xx ${r.non2xx}  (rounds ${roundsText(deployed[side])})`,
      );
    };
    console.log(`\nAs deployed (second phase, interleaved; ${workerCount} CPUs):`);
    line('gateway, 1 process, in-process circuits', 'memory');
    line('gateway, 1 process, circuits in Redis', 'redis');
    line(`gateway, AGW_WORKERS=auto (${workerCount}), Redis`, 'workers');
    line('Portkey OSS, 1 process (as it ships)', 'portkey');
    line(`Portkey OSS, ${workerCount} processes (node:cluster)`, 'portkeyWorkers');
    const failures = (side: keyof typeof deployed) =>
      deployed[side].reduce((n, run) => n + run.errors + run.non2xx, 0);
    if (m.redis && m.memory) {
      figures.push({
        name: `/v1 throughput through the gateway with REDIS_URL (shared circuits, ${CONCURRENCY} connections)`,
        unit: 'req/s',
        value: m.redis.requests.average,
        baseline: { name: 'same gateway, in-process circuits, same phase', value: m.memory.requests.average },
        ratio: m.redis.requests.average / m.memory.requests.average,
      });
    }
    if (m.workers && m.portkey) {
      const ratio = m.workers.requests.average / m.portkey.requests.average;
      console.log(
        `  gateway (AGW_WORKERS=auto) / Portkey as it ships: ${ratio.toFixed(1)}× the requests per second (target ≥ 10×)`,
      );
      figures.push({
        name: `/v1 throughput, gateway with AGW_WORKERS=auto (${workerCount}) + Redis vs Portkey OSS as it ships (${CONCURRENCY} connections, median of ${THROUGHPUT_ROUNDS})`,
        unit: 'req/s',
        value: m.workers.requests.average,
        baseline: {
          name: `Portkey OSS ${portkey?.version}, one process, same phase`,
          value: m.portkey.requests.average,
        },
        ratio,
        target: "≥ 10× Portkey's req/s",
        pass: ratio >= 10 && failures('workers') === 0 && failures('portkey') === 0,
      });
    }
    if (m.workers && m.portkeyWorkers) {
      console.log(
        `  gateway (AGW_WORKERS=auto) / Portkey on ${workerCount} processes: ${(m.workers.requests.average / m.portkeyWorkers.requests.average).toFixed(1)}×`,
      );
      figures.push({
        name: `/v1 throughput, gateway with AGW_WORKERS=auto vs Portkey OSS forked to ${workerCount} processes (like for like)`,
        unit: 'req/s',
        value: m.workers.requests.average,
        baseline: {
          name: `Portkey OSS ${portkey?.version}, ${workerCount} processes`,
          value: m.portkeyWorkers.requests.average,
        },
        ratio: m.workers.requests.average / m.portkeyWorkers.requests.average,
      });
    }
  } else {
    console.log('\nAs deployed (Redis, AGW_WORKERS=auto): not measured (REDIS_URL is not set)');
  }
  figures.push({
    name: `/v1 throughput through the gateway (${CONCURRENCY} connections)`,
    unit: 'req/s',
    value: thr.gateway.requests.average,
    baseline: { name: 'direct to the mock', value: thr.direct.requests.average },
    ratio: thr.gateway.requests.average / thr.direct.requests.average,
  });
  figures.push({
    name: `/v1 throughput through the bare proxy (${CONCURRENCY} connections)`,
    unit: 'req/s',
    value: thr.bare.requests.average,
    baseline: { name: 'direct to the mock', value: thr.direct.requests.average },
    ratio: thr.bare.requests.average / thr.direct.requests.average,
  });
  recordResults(
    'proxy',
    {
      sequentialCalls: SEQUENTIAL,
      concurrency: CONCURRENCY,
      perWorker: PER_WORKER,
      autocannonSeconds: DURATION_S,
      throughputRounds: THROUGHPUT_ROUNDS,
      logLevel: LOG_LEVEL,
      store: store ? 'PostgreSQL' : 'embedded PGlite',
      asDeployed: REDIS_URL ? `Redis (REDIS_URL), AGW_WORKERS=auto (${workerCount})` : 'not measured',
    },
    figures,
  );
  console.log(
    `\nTarget: gateway added p50 ≤ 0.5 ms. Load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${cpus().length} CPUs (other processes share them).`,
  );

  await Promise.all(sides.map((side) => pools[side].close()));
  for (const child of [gateway.child, bare.child, mock.child]) child.kill('SIGTERM');
  await new Promise((resolve) => gateway.child.once('exit', resolve));
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  await store?.drop();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
