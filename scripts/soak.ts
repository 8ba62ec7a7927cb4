/**
 * `npm run soak`: mixed traffic against a real gateway process (`node dist/main.js`, as `npm start` runs it) for
 * SOAK_SECONDS (default 600): event appends, signed ingest (with replays), dry-runs, orchestrations, reads, and SSE
 * clients that reconnect with Last-Event-ID. Every 10 s it scrapes the gateway's own /metrics for RSS, heap and the
 * event-loop lag p99 of the last window (prom-client resets the lag histogram at each scrape).
 *
 * Fails (exit 1) when, after the warm-up, RSS grows by 5 % or more (median of the first three samples against the
 * median of the last three), when any window's event-loop lag p99 reaches 200 ms, when any request gets a 5xx or a
 * transport error, or when the gateway dies. Exit 2: setup failure.
 *
 * Env: SOAK_SECONDS (600), SOAK_WARMUP_SECONDS (min(120, 25 % of the run)), SOAK_RPS (target request rate, 60),
 * SOAK_SSE_CLIENTS (6), DATABASE_URL (a fresh database is created on that server and dropped; default the embedded
 * PGlite store in a temp dir), REDIS_URL (optional, passed to the gateway).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { createBenchDatabase } from '../bench/bench-support.js';
import { sseEvents } from '../src/cli/sse-reader.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
// Long enough that the first major GC (RSS drops by ~30 MB around 100 s at the default rate) falls inside it: a
// baseline taken before it sits above the steady state and would hide that much growth.
const WARMUP = Number(process.env.SOAK_WARMUP_SECONDS ?? Math.min(120, Math.round(SECONDS * 0.25)));
const RPS = Number(process.env.SOAK_RPS ?? 60);
const SSE_CLIENTS = Number(process.env.SOAK_SSE_CLIENTS ?? 6);
const SAMPLE_MS = 10_000;
const MAX_RSS_GROWTH = 0.05;
const MAX_LAG_P99_S = 0.2;

const ADMIN = randomBytes(16).toString('hex');
const METRICS = randomBytes(16).toString('hex');
const WEBHOOK = randomBytes(16).toString('hex');
const A = '/api/admin/agent-gateway';

interface Sample {
  t: number;
  rssMb: number;
  heapMb: number;
  lagP99Ms: number;
  requests: number;
  sseEvents: number;
}

function startGateway(
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['dist/main.js'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out = (out + d).slice(-20_000);
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve({ url: match[1]!.replace('localhost', '127.0.0.1'), child, output: () => out });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`gateway exited ${code} before listening:\n${out}`)));
  });
}

/** Value of an unlabelled series in Prometheus text. */
function metric(text: string, name: string): number {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!match) throw new Error(`metric ${name} missing from /metrics`);
  return Number(match[1]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<number> {
  const database = process.env.DATABASE_URL ? await createBenchDatabase() : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'agw-soak-'));
  const env: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR']) if (process.env[key]) env[key] = process.env[key];
  Object.assign(env, {
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    AGW_DATA_DIR: dataDir,
    ADMIN_API_TOKEN: ADMIN,
    METRICS_TOKEN: METRICS,
    AGENT_GATEWAY_WEBHOOK_SECRET: WEBHOOK,
    AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMIT_MAX: '1000000',
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
  });
  const gateway = await startGateway(env);
  let died = false;
  gateway.child.once('exit', () => {
    died = true;
  });
  const pool = new Pool(gateway.url, { connections: 16 });
  const counts = new Map<string, { ok: number; client: number; server: number; transport: number }>();
  const serverErrors: string[] = [];
  let requests = 0;
  let sseEventCount = 0;

  const call = async (action: string, method: 'GET' | 'POST', path: string, body?: unknown, headers = {}) => {
    const entry = counts.get(action) ?? { ok: 0, client: 0, server: 0, transport: 0 };
    counts.set(action, entry);
    requests++;
    try {
      const raw = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const res = await pool.request({
        method,
        path,
        headers: {
          'x-admin-token': ADMIN,
          ...(raw === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(raw === undefined ? {} : { body: raw }),
      });
      const text = await res.body.text();
      if (res.statusCode >= 500) {
        entry.server++;
        if (serverErrors.length < 10)
          serverErrors.push(`${method} ${path} → ${res.statusCode} ${text.slice(0, 300)}`);
      } else if (res.statusCode >= 400) entry.client++;
      else entry.ok++;
      return { status: res.statusCode, json: () => JSON.parse(text) };
    } catch (error) {
      entry.transport++;
      if (serverErrors.length < 10) serverErrors.push(`${method} ${path} → ${(error as Error).message}`);
      return { status: 0, json: () => ({}) };
    }
  };

  // Fixtures: a draft for orchestrations and a set of sessions that take appends and SSE clients.
  const draftId = (
    await call('setup', 'POST', '/api/admin/drafts', { title: 'soak', body: 'soak draft' })
  ).json().draft.id as string;
  const sessions: string[] = [];
  for (let i = 0; i < 20; i++)
    sessions.push(
      (
        await call('setup', 'POST', `${A}/sessions`, { channel: 'soak', externalSessionId: `room-${i}` })
      ).json().session.id,
    );
  const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;
  let ingestSeq = 0;

  const actions: [number, string, () => Promise<unknown>][] = [
    [
      30,
      'append',
      () =>
        call('append', 'POST', `${A}/sessions/${pick(sessions)}/events`, {
          fromRole: 'author',
          toRole: 'critic',
          type: 'note',
          payload: { text: `soak ${randomBytes(24).toString('hex')}` },
        }),
    ],
    [
      25,
      'ingest',
      () => {
        // One in ten is a replay of an earlier event (dedup path).
        const n = Math.random() < 0.1 && ingestSeq > 0 ? Math.floor(Math.random() * ingestSeq) : ++ingestSeq;
        const raw = JSON.stringify({
          connectorId: 'soak',
          eventId: `e-${n}`,
          channel: 'soak_ingest',
          externalSessionId: `chat-${n % 40}`,
          fromRole: 'observer',
          type: 'note',
          payload: { text: `message ${n}` },
        });
        const ts = String(Math.floor(Date.now() / 1000));
        const signature = `v1=${createHmac('sha256', WEBHOOK).update(`${ts}.${raw}`).digest('hex')}`;
        return call('ingest', 'POST', '/api/agent-gateway/adapters/ingest', raw, {
          'x-gateway-timestamp': ts,
          'x-gateway-signature': signature,
        });
      },
    ],
    [
      8,
      'dry-run',
      () =>
        call('dry-run', 'POST', '/api/admin/ai-runtime/dry-run', {
          role: pick(['critic', 'maker', 'judge']),
          prompt: 'soak',
        }),
    ],
    [
      4,
      'orchestrate',
      () =>
        call('orchestrate', 'POST', `${A}/orchestrate`, {
          draftId,
          channel: 'soak_cycle',
          async: Math.random() < 0.5,
          waitMs: 5000,
        }),
    ],
    [
      25,
      'read',
      () => {
        const id = pick(sessions);
        return call(
          'read',
          'GET',
          pick([
            `${A}/sessions?limit=50`,
            `${A}/sessions?staleMinutes=15`,
            `${A}/sessions/${id}`,
            `${A}/sessions/${id}/events?limit=50`,
            `${A}/sessions/${id}/summary`,
            `${A}/sessions/${id}/status`,
            '/api/admin/ai-runtime/health',
            '/api/admin/ai-runtime/profiles',
            '/health',
            '/ready',
          ]),
        );
      },
    ],
    [3, 'telemetry', () => call('telemetry', 'GET', pick([`${A}/telemetry`, `${A}/adapters`]))],
    [
      1,
      'compact',
      () => call('compact', 'POST', `${A}/sessions/${pick(sessions)}/compact`, { keepRecent: 40 }),
    ],
  ];
  const totalWeight = actions.reduce((n, [w]) => n + w, 0);
  const chooseAction = () => {
    let r = Math.random() * totalWeight;
    for (const action of actions) {
      r -= action[0];
      if (r < 0) return action;
    }
    return actions[0]!;
  };

  const started = Date.now();
  const deadline = started + SECONDS * 1000;
  let stopping = false;

  // Paced load: a request every 1/RPS s, each in flight independently (bounded by the pool's 16 connections).
  const inFlight = new Set<Promise<unknown>>();
  const load = (async () => {
    let next = Date.now();
    while (!stopping && Date.now() < deadline) {
      const p = chooseAction()[2]().finally(() => inFlight.delete(p));
      inFlight.add(p);
      next += 1000 / RPS;
      const wait = next - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      else if (inFlight.size > 64) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  })();

  // SSE clients: each follows a session for 5–30 s, then reconnects (to another session or resuming with Last-Event-ID).
  const openStreams = new Set<AbortController>();
  const sse = Array.from({ length: SSE_CLIENTS }, async () => {
    const lastSeen = new Map<string, string>();
    while (!stopping && Date.now() < deadline) {
      const id = pick(sessions);
      const controller = new AbortController();
      openStreams.add(controller);
      const timer = setTimeout(() => controller.abort(), 5000 + Math.random() * 25_000);
      try {
        const res = await fetch(`${gateway.url}${A}/sessions/${id}/stream`, {
          headers: {
            'x-admin-token': ADMIN,
            ...(lastSeen.has(id) ? { 'last-event-id': lastSeen.get(id)! } : {}),
          },
          signal: controller.signal,
        });
        if (res.status >= 500) serverErrors.push(`SSE ${id} → ${res.status}`);
        if (res.body)
          for await (const event of sseEvents(res.body)) {
            sseEventCount++;
            if (event.id) lastSeen.set(id, event.id);
          }
      } catch (error) {
        if ((error as Error).name !== 'AbortError' && !stopping)
          serverErrors.push(`SSE ${id}: ${(error as Error).message}`);
      } finally {
        clearTimeout(timer);
        openStreams.delete(controller);
      }
    }
  });

  // Samples: the gateway's own view of its memory and event loop, every 10 s.
  const samples: Sample[] = [];
  console.log(
    `soak — ${SECONDS} s (warm-up ${WARMUP} s), ~${RPS} req/s, ${SSE_CLIENTS} SSE clients, store ${database ? 'PostgreSQL' : 'embedded PGlite'}${process.env.REDIS_URL ? ' + Redis' : ''}, node ${process.version}, ${cpus().length} CPUs`,
  );
  console.log('     t    RSS MB   heap MB   lag p99 ms   requests   SSE events');
  while (Date.now() < deadline && !died) {
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(SAMPLE_MS, Math.max(0, deadline - Date.now()))),
    );
    if (died) break;
    try {
      const res = await pool.request({
        method: 'GET',
        path: '/metrics',
        headers: { authorization: `Bearer ${METRICS}` },
      });
      const text = await res.body.text();
      const sample: Sample = {
        t: Math.round((Date.now() - started) / 1000),
        rssMb: metric(text, 'process_resident_memory_bytes') / 2 ** 20,
        heapMb: metric(text, 'nodejs_heap_size_used_bytes') / 2 ** 20,
        lagP99Ms: metric(text, 'nodejs_eventloop_lag_p99_seconds') * 1000,
        requests,
        sseEvents: sseEventCount,
      };
      samples.push(sample);
      console.log(
        `${String(sample.t).padStart(6)} ${sample.rssMb.toFixed(1).padStart(9)} ${sample.heapMb.toFixed(1).padStart(9)} ${sample.lagP99Ms.toFixed(1).padStart(12)} ${String(requests).padStart(10)} ${String(sseEventCount).padStart(12)}${sample.t <= WARMUP ? '  (warm-up)' : ''}`,
      );
    } catch (error) {
      serverErrors.push(`metrics scrape: ${(error as Error).message}`);
    }
  }
  stopping = true;
  for (const controller of openStreams) controller.abort();
  await load;
  await Promise.all(sse);
  await pool.close();

  const measured = samples.filter((s) => s.t > WARMUP);
  const failures: string[] = [];
  console.log('\nrequests by action (2xx/3xx, 4xx, 5xx, transport errors):');
  for (const [action, c] of counts)
    console.log(
      `  ${action.padEnd(12)} ${c.ok} ok, ${c.client} 4xx, ${c.server} 5xx, ${c.transport} transport`,
    );
  if (died) failures.push(`the gateway died:\n${gateway.output().slice(-3000)}`);
  if (measured.length < 2)
    failures.push(`only ${measured.length} samples after the warm-up; run longer (SOAK_SECONDS)`);
  else {
    const k = Math.min(3, Math.floor(measured.length / 2));
    const first = median(measured.slice(0, k).map((s) => s.rssMb));
    const last = median(measured.slice(-k).map((s) => s.rssMb));
    const growth = last / first - 1;
    const worstLag = Math.max(...measured.map((s) => s.lagP99Ms));
    const minutes = (measured.at(-1)!.t - measured[0]!.t) / 60;
    console.log(
      `\nRSS after warm-up: ${first.toFixed(1)} MB → ${last.toFixed(1)} MB (${(growth * 100).toFixed(2)} %, limit < ${MAX_RSS_GROWTH * 100} %) over ${minutes.toFixed(1)} min`,
    );
    console.log(
      `event-loop lag p99, worst 10 s window: ${worstLag.toFixed(1)} ms (limit < ${MAX_LAG_P99_S * 1000} ms)`,
    );
    if (growth >= MAX_RSS_GROWTH) failures.push(`RSS grew ${(growth * 100).toFixed(2)} %`);
    if (worstLag >= MAX_LAG_P99_S * 1000)
      failures.push(`event-loop lag p99 reached ${worstLag.toFixed(1)} ms`);
  }
  const fives = [...counts.values()].reduce((n, c) => n + c.server + c.transport, 0);
  if (fives > 0 || serverErrors.length > 0)
    failures.push(`${fives} requests failed with a 5xx or transport error:\n  ${serverErrors.join('\n  ')}`);

  if (!died) {
    gateway.child.kill('SIGTERM');
    await new Promise((resolve) => gateway.child.once('exit', resolve));
  }
  rmSync(dataDir, { recursive: true, force: true });
  await database?.drop();
  console.log(failures.length ? `\nFAIL\n- ${failures.join('\n- ')}` : '\nPASS');
  return failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
