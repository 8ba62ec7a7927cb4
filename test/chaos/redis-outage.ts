/**
 * Redis outage: the gateway shares circuits and ingest rate limits through Redis (a private server, never the shared
 * one). Redis is killed for 10 s under traffic and started again. Promise: the gateway degrades to local state with a
 * warning and a metric, not errors — no 5xx, circuits still protect (a failing provider is skipped after it opens
 * locally), rate limits still limit, and it goes back to shared state when Redis returns.
 *
 *   npm run chaos:redis-outage   (CHAOS_REDIS_OUTAGE_SECONDS=10)
 */
import { startMockProvider } from '../../src/mock-provider/mock-provider.js';
import {
  adminHeaders,
  ChaosReport,
  createChaosDatabase,
  envInt,
  type GatewayProcess,
  log,
  percentile,
  privateRedis,
  request,
  runScenario,
  signedIngest,
  sleep,
  startGateway,
} from './chaos-support.js';

const OUTAGE_SECONDS = envInt('CHAOS_REDIS_OUTAGE_SECONDS', 10);
const TOKEN = 'chaos-redis-token-0123456789abcdef';
const SECRET = 'chaos-redis-webhook-secret-0123456789';
const API_KEY = 'chaos-redis-api-key-0123456789abcdef';
const LIMIT = 20;
const FAILING_MODEL = 'mock-status-503';

interface Sample {
  what: 'v1' | 'ingest' | 'limited' | 'health';
  sentAt: number;
  doneAt: number;
  status: number;
  code: string | null;
}

const report = new ChaosReport(`chaos:redis-outage (Redis killed ${OUTAGE_SECONDS} s under /v1 + ingest)`);

await runScenario(report, async (cleanups) => {
  const db = await createChaosDatabase();
  cleanups.push(() => db.drop());
  const redis = await privateRedis();
  cleanups.push(() => redis.kill());
  const mock = await startMockProvider();
  cleanups.push(() => mock.close());
  let gateway: GatewayProcess | undefined;
  cleanups.push(async () => gateway?.stop('SIGKILL'));
  gateway = await startGateway('gateway', {
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    ADMIN_API_TOKEN: TOKEN,
    GATEWAY_API_KEYS: API_KEY,
    AGENT_GATEWAY_WEBHOOK_SECRET: SECRET,
    AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMIT_MAX: '1000000',
    AGENT_GATEWAY_INGEST_CONNECTOR_POLICIES: JSON.stringify({ limited: { rateLimitMax: LIMIT } }),
    AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
    AI_RUNTIME_MAX_RETRIES_PER_PROVIDER: '0',
    AI_PROVIDER_COOLDOWN_MS: '120000',
    AI_RUNTIME_FLAKY_KIND: 'openai',
    AI_RUNTIME_FLAKY_ENDPOINT: `${mock.url}/v1`,
    AI_RUNTIME_FLAKY_API_KEY: 'mock-key-0123456789',
    AI_RUNTIME_FLAKY_MODEL: FAILING_MODEL,
    AI_RUNTIME_GOOD_KIND: 'openai',
    AI_RUNTIME_GOOD_ENDPOINT: `${mock.url}/v1`,
    AI_RUNTIME_GOOD_API_KEY: 'mock-key-0123456789',
    AI_RUNTIME_GOOD_MODEL: 'mock-latency-10',
    AI_CRITIC_MODEL_CHAIN: 'flaky,good',
  });
  const url = gateway.url;
  const samples: Sample[] = [];
  let n = 0;

  async function send(what: Sample['what']): Promise<Sample> {
    const sentAt = Date.now();
    let res: Awaited<ReturnType<typeof request>>;
    if (what === 'v1') {
      res = await request(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'critic', messages: [{ role: 'user', content: `hello ${n++}` }] }),
      });
    } else if (what === 'health') {
      res = await request(`${url}/api/admin/ai-runtime/health`, { headers: adminHeaders(TOKEN) });
    } else {
      const connectorId = what === 'limited' ? 'limited' : 'steady';
      const raw = JSON.stringify({
        connectorId,
        eventId: `${connectorId}-${n++}`,
        channel: 'chaos-redis',
        externalSessionId: connectorId,
        fromRole: 'observer',
        type: 'chaos_ingest',
        payload: { n },
      });
      res = await request(`${url}/api/agent-gateway/adapters/ingest`, signedIngest(SECRET, raw));
    }
    const sample: Sample = {
      what,
      sentAt,
      doneAt: Date.now(),
      status: res.status,
      code: (res.body as { error?: string } | null)?.error ?? res.error ?? null,
    };
    samples.push(sample);
    return sample;
  }

  let running = true;
  const loop = async (what: Sample['what'], everyMs: number) => {
    while (running) {
      const next = Date.now() + everyMs;
      await send(what);
      await sleep(Math.max(0, next - Date.now()));
    }
  };
  const metric = async (store: string) => {
    const res = await request(`${url}/metrics`);
    const line = String(res.body)
      .split('\n')
      .find((l) => l.startsWith(`agw_shared_state_fallbacks_total{store="${store}"}`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  // Before: the failing provider's circuit opens in Redis; the steady connector flows.
  const loops = [loop('v1', 100), loop('ingest', 100), loop('health', 500)];
  await sleep(3000);
  const failingBefore = mock.stats.byModel[FAILING_MODEL] ?? 0;
  report.figure('calls to the failing provider before the outage', failingBefore);

  log('killing Redis');
  await redis.kill();
  const downAt = Date.now();
  const failingAtKill = mock.stats.byModel[FAILING_MODEL] ?? 0;
  await sleep(1000);
  const readyDown = await request(`${url}/ready`);
  // A burst on the limited connector: the local window must still cap it.
  const burst: Sample[] = [];
  for (let i = 0; i < LIMIT * 2; i++) burst.push(await send('limited'));
  await sleep(OUTAGE_SECONDS * 1000 - (Date.now() - downAt));
  const failingDuring = (mock.stats.byModel[FAILING_MODEL] ?? 0) - failingAtKill;
  const fallbacks = { circuits: await metric('circuits'), rate_limits: await metric('rate_limits') };
  const restartAt = Date.now();
  await redis.start();
  log(`Redis back after ${((Date.now() - downAt) / 1000).toFixed(1)} s`);
  await sleep(4000);
  const fallbacksAfter = { circuits: await metric('circuits'), rate_limits: await metric('rate_limits') };
  await sleep(2000);
  const fallbacksLater = { circuits: await metric('circuits'), rate_limits: await metric('rate_limits') };
  running = false;
  await Promise.all(loops);
  type Health = { circuitStore?: string; circuitStoreError?: string | null; circuitMirror?: string | null };
  const readHealth = async () =>
    (await request(`${url}/api/admin/ai-runtime/health`, { headers: adminHeaders(TOKEN) })).body as Health;
  let health = await readHealth();
  // The circuit mirror reconnects on its own schedule (ioredis backoff, at most 2 s) and then reloads.
  for (let i = 0; i < 50 && health.circuitMirror !== 'live'; i++) {
    await sleep(200);
    health = await readHealth();
  }
  const readyUp = await request(`${url}/ready`);

  const during = samples.filter((s) => s.sentAt >= downAt && s.doneAt <= restartAt);
  const errors = samples.filter((s) => s.status >= 500 || s.status === 0);
  const byKind = (what: Sample['what'], list: Sample[]) => list.filter((s) => s.what === what);
  report.figure('requests', `${samples.length} total, ${during.length} while Redis was down`);
  report.figure(
    'statuses while Redis was down',
    ['v1', 'ingest', 'limited', 'health']
      .map((w) => `${w}: ${tally(byKind(w as Sample['what'], during).map((s) => String(s.status)))}`)
      .join('; '),
  );
  report.check(
    'no 5xx and no dropped request, before, during or after',
    errors.length === 0,
    errors
      .slice(0, 3)
      .map((s) => `${s.what} ${s.status} ${s.code}`)
      .join('; '),
  );
  const latencies = during.filter((s) => s.what !== 'limited').map((s) => s.doneAt - s.sentAt);
  const p99 = percentile(latencies, 99);
  report.figure(
    'latency while Redis was down',
    `p50 ${percentile(latencies, 50)} ms, p99 ${p99} ms, max ${Math.max(...latencies)} ms`,
  );
  report.check('requests stay fast while Redis is down (p99 ≤ 500 ms)', p99 <= 500, `${p99} ms`);
  report.check(
    '/v1 keeps answering 200 while Redis is down',
    byKind('v1', during).length > 0 && byKind('v1', during).every((s) => s.status === 200),
  );
  report.figure('calls to the failing provider while Redis was down', failingDuring);
  report.check(
    'circuits hold locally: the failing provider is skipped after it fails once (≤ 2 calls)',
    failingDuring <= 2,
    `${failingDuring} calls`,
  );
  const burstOk = burst.filter((s) => s.status === 201).length;
  const burstLimited = burst.filter((s) => s.status === 429).length;
  report.figure(
    'rate-limited burst while Redis was down',
    `${burst.length} sent: ${burstOk}× 201, ${burstLimited}× 429 (limit ${LIMIT})`,
  );
  report.check(
    'the rate limit still limits locally',
    burstOk <= LIMIT && burstLimited >= LIMIT,
    `${burstOk} accepted`,
  );
  const warnings = gateway
    .output()
    .split('\n')
    .filter((l) => l.includes('"level":40') && /redis|circuit store|rate limit store/i.test(l));
  report.figure('warning log lines about Redis', warnings.length);
  report.check('the degradation is logged as a warning', warnings.length > 0);
  report.check(
    'warnings are throttled, not one per request',
    warnings.length <= 20,
    `${warnings.length} lines`,
  );
  report.figure('agw_shared_state_fallbacks_total during the outage', JSON.stringify(fallbacks));
  report.check(
    'a metric counts the fallbacks to local state',
    fallbacks.circuits > 0 && fallbacks.rate_limits > 0,
  );
  report.check(
    'back on shared state after Redis returns (fallback counters stop growing)',
    fallbacksLater.circuits === fallbacksAfter.circuits &&
      fallbacksLater.rate_limits === fallbacksAfter.rate_limits,
    `${JSON.stringify(fallbacksAfter)} → ${JSON.stringify(fallbacksLater)}`,
  );
  report.check(
    'runtime health says the circuit store is fine again',
    health.circuitStore === 'redis' && !health.circuitStoreError,
  );
  report.check(
    'the circuit mirror is live again (closed circuits decided without Redis round trips)',
    health.circuitMirror === 'live',
    String(health.circuitMirror),
  );
  const readyBody = readyDown.body as { redis?: string } | null;
  report.figure('/ready while Redis was down', `${readyDown.status} redis=${readyBody?.redis}`);
  report.check(
    '/ready names Redis as down but keeps the replica in service (200)',
    readyDown.status === 200 && readyBody?.redis === 'down',
  );
  report.check(
    '/ready 200 with redis ok afterwards',
    readyUp.status === 200 && (readyUp.body as { redis?: string }).redis === 'ok',
  );
  report.check('the gateway process stayed up', gateway.alive());
});

function tally(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([k, c]) => `${c}× ${k}`).join(', ') || 'none';
}
