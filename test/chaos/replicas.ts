/**
 * Multi-replica: three gateway processes on one PostgreSQL + Redis behind a tiny round-robin client. Orchestrations,
 * signed ingest and admin appends spread across them while SSE clients on two replicas follow every session; the
 * third replica is SIGKILLed mid-run. Promise: every session consistent (seq gap-free, counters match, acknowledged
 * events exactly once), every run completes, SSE clients on the surviving replicas see every event in order.
 *
 *   npm run chaos:replicas   (CHAOS_REPLICA_RUNS=30, CHAOS_REPLICA_TRAFFIC_SECONDS=12, CHAOS_RUN_LEASE_SECONDS=5)
 */

import { startMockProvider } from '../../src/mock-provider/mock-provider.js';
import {
  adminHeaders,
  ChaosReport,
  countOf,
  createChaosDatabase,
  envInt,
  follow,
  type GatewayProcess,
  log,
  mockRolesEnv,
  percentile,
  privateRedis,
  request,
  runScenario,
  signedIngest,
  sleep,
  startGateway,
  timelineProblems,
} from './chaos-support.js';

const RUNS = envInt('CHAOS_REPLICA_RUNS', 30);
const TRAFFIC_SECONDS = envInt('CHAOS_REPLICA_TRAFFIC_SECONDS', 12);
const LEASE_SECONDS = envInt('CHAOS_RUN_LEASE_SECONDS', 5);
const STEP_LATENCY_MS = envInt('CHAOS_STEP_LATENCY_MS', 400);
const TOKEN = 'chaos-replicas-token-0123456789abcdef';
const SECRET = 'chaos-replicas-webhook-secret-0123456789';
const INGEST_SESSIONS = 4;
const APPEND_SESSIONS = 3;

type Kind = 'orchestrate' | 'ingest' | 'append' | 'setup';

/** The tiny load balancer: round-robin over live replicas; a refused connection marks one dead and tries the next. */
class RoundRobin {
  private next = 0;
  readonly served = new Map<string, Record<Kind, number>>();
  readonly ambiguous: string[] = [];

  constructor(private readonly replicas: GatewayProcess[]) {
    for (const r of replicas) this.served.set(r.name, { orchestrate: 0, ingest: 0, append: 0, setup: 0 });
  }

  /**
   * Sends to the next replica. Not-sent failures (refused) always move on; a request that was sent but got no
   * answer moves on only when `idempotent` (a replayed ingest is deduplicated; a replayed append would not be).
   */
  async send(kind: Kind, path: string, init: () => RequestInit, idempotent: boolean) {
    for (let tries = 0; tries < this.replicas.length * 3; tries++) {
      const replica = this.replicas[this.next++ % this.replicas.length]!;
      if (!replica.alive()) continue;
      const res = await request(`${replica.url}${path}`, init());
      if (res.status === 0 && (idempotent || /ECONNREFUSED/.test(String(res.error) + String(res.body))))
        continue;
      if (res.status === 0) this.ambiguous.push(path);
      if (res.status > 0 && res.status < 300) this.served.get(replica.name)![kind]++;
      return res;
    }
    return { status: 0, body: null, error: 'no replica answered', ms: 0 };
  }
}

const report = new ChaosReport(
  `chaos:replicas (3 gateways, one SIGKILLed mid-run, ${RUNS} runs + ingest + appends)`,
);

await runScenario(report, async (cleanups) => {
  const db = await createChaosDatabase();
  cleanups.push(() => db.drop());
  const redis = await privateRedis();
  cleanups.push(() => redis.kill());
  const mock = await startMockProvider();
  cleanups.push(() => mock.close());
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    ADMIN_API_TOKEN: TOKEN,
    AGENT_GATEWAY_WEBHOOK_SECRET: SECRET,
    AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMIT_MAX: '1000000',
    AGENT_ORCHESTRATION_RUN_LEASE_SECONDS: String(LEASE_SECONDS),
    ...mockRolesEnv(mock.url, STEP_LATENCY_MS),
  };
  const replicas: GatewayProcess[] = [];
  cleanups.push(async () => Promise.all(replicas.map((r) => r.stop('SIGKILL'))));
  // One at a time: the first applies the migrations, the others find none pending.
  for (const name of ['a', 'b', 'c']) replicas.push(await startGateway(name, env));
  const [victim, ...survivors] = replicas as [GatewayProcess, GatewayProcess, GatewayProcess];
  const lb = new RoundRobin(replicas);
  const headers = adminHeaders(TOKEN);
  const json = (body: unknown) => () => ({ method: 'POST', headers, body: JSON.stringify(body) });

  const draft = await lb.send(
    'setup',
    '/api/admin/drafts',
    json({ title: 'replicas', body: 'three of us' }),
    false,
  );
  const draftId = (draft.body as { draft: { id: string } }).draft.id;
  const appendSessions: string[] = [];
  for (let i = 0; i < APPEND_SESSIONS; i++) {
    const res = await lb.send(
      'setup',
      '/api/admin/agent-gateway/sessions',
      json({ channel: 'chaos-replicas', externalSessionId: `append-${i}` }),
      true,
    );
    appendSessions.push((res.body as { session: { id: string } }).session.id);
  }
  // Ingest sessions exist once their first event lands; create them the same way so streams can start now.
  const ingestSessions: string[] = [];
  for (let i = 0; i < INGEST_SESSIONS; i++) {
    const res = await lb.send(
      'setup',
      '/api/admin/agent-gateway/sessions',
      json({ channel: 'chaos-ingest', externalSessionId: `ingest-${i}` }),
      true,
    );
    ingestSessions.push((res.body as { session: { id: string } }).session.id);
  }
  const streams = [...appendSessions, ...ingestSessions].flatMap((id) =>
    survivors.map((r) => follow(r.url, id, TOKEN)),
  );

  // --- Traffic ---
  const acknowledged = { ingest: new Set<string>(), append: new Set<string>() };
  const failures: string[] = [];
  let producing = true;
  const ingestSender = async (index: number) => {
    for (let n = 0; producing; n++) {
      const marker = `ingest-${index}-${n}`;
      const raw = JSON.stringify({
        connectorId: 'chaos',
        eventId: marker,
        channel: 'chaos-ingest',
        externalSessionId: `ingest-${n % INGEST_SESSIONS}`,
        fromRole: 'observer',
        type: 'chaos_ingest',
        payload: { marker },
      });
      const res = await lb.send(
        'ingest',
        '/api/agent-gateway/adapters/ingest',
        () => signedIngest(SECRET, raw),
        true,
      );
      if (res.status === 201 || res.status === 200) acknowledged.ingest.add(marker);
      else failures.push(`${marker}: ${res.status} ${res.error ?? ''}`);
      await sleep(100);
    }
  };
  const appendSender = async (index: number) => {
    for (let n = 0; producing; n++) {
      const marker = `append-${index}-${n}`;
      const session = appendSessions[n % APPEND_SESSIONS];
      const res = await lb.send(
        'append',
        `/api/admin/agent-gateway/sessions/${session}/events`,
        json({ fromRole: 'observer', type: 'chaos_note', payload: { marker } }),
        false,
      );
      if (res.status === 201) acknowledged.append.add(marker);
      else if (res.status !== 0) failures.push(`${marker}: ${res.status}`);
      await sleep(100);
    }
  };
  const senders = [0, 1].flatMap((i) => [ingestSender(i), appendSender(i)]);
  const trafficStartedAt = Date.now();
  await sleep(3000);

  const runIds: string[] = [];
  const runSessions: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const res = await lb.send(
      'orchestrate',
      '/api/admin/agent-gateway/orchestrate',
      json({ draftId, async: true }),
      false,
    );
    if (res.status === 202) {
      const body = res.body as { runId: string; sessionId: string };
      runIds.push(body.runId);
      runSessions.push(body.sessionId);
    } else failures.push(`orchestrate: ${res.status}`);
  }
  report.check(`${RUNS} orchestrations accepted`, runIds.length === RUNS, `${runIds.length}`);
  // Each run session is followed from a surviving replica (replaying from seq 0 whatever already happened).
  for (const [i, id] of runSessions.entries())
    streams.push(follow(survivors[i % survivors.length]!.url, id, TOKEN));

  const steps = () => countOf(db.pool, 'select count(*) as n from orchestration_steps');
  for (let i = 0; i < 500 && (await steps()) < RUNS; i++) await sleep(20);
  const unfinishedAtKill =
    RUNS -
    (await countOf(db.pool, "select count(*) as n from orchestration_runs where status = 'completed'"));
  const stepsAtKill = await steps();
  await victim.stop('SIGKILL');
  const killedAt = Date.now();
  log(
    `replica a SIGKILLed with ${stepsAtKill}/${RUNS * 3} steps committed, ${unfinishedAtKill} runs unfinished`,
  );
  report.figure(
    'at SIGKILL',
    `${stepsAtKill}/${RUNS * 3} steps committed, ${unfinishedAtKill}/${RUNS} runs unfinished`,
  );
  report.check('the kill landed mid-run', unfinishedAtKill > 0 && stepsAtKill > 0);
  await sleep(Math.max(0, TRAFFIC_SECONDS * 1000 - (Date.now() - trafficStartedAt)));
  producing = false;
  await Promise.all(senders);

  let finished = 0;
  for (const deadline = Date.now() + 90_000; Date.now() < deadline; await sleep(200)) {
    finished = await countOf(
      db.pool,
      "select count(*) as n from orchestration_runs where status in ('completed', 'failed')",
    );
    if (finished >= RUNS) break;
  }
  const lastWriteAt = Date.now();
  report.figure(
    'recovery (SIGKILL → every run finished)',
    `${((Date.now() - killedAt) / 1000).toFixed(1)} s (lease ${LEASE_SECONDS} s)`,
  );

  // --- Spread ---
  const served = [...lb.served].map(
    ([name, c]) => `${name}: ${c.orchestrate} runs, ${c.ingest} ingest, ${c.append} appends`,
  );
  report.figure('served per replica', served.join('; '));
  report.check(
    'orchestrations, ingest and appends spread across all three replicas',
    [...lb.served.values()].every((c) => c.orchestrate > 0 && c.ingest > 0 && c.append > 0),
  );
  report.figure('requests without an answer (replica killed under them)', lb.ambiguous.length);
  report.check(
    'no request failed other than under the killed replica',
    failures.length === 0,
    failures.slice(0, 3).join('; '),
  );

  // --- The database ---
  const runs = await db.pool.query<{ status: string; session_id: string }>(
    'select status, session_id from orchestration_runs',
  );
  const completed = runs.rows.filter((r) => r.status === 'completed').length;
  report.figure('runs completed', `${completed}/${RUNS}`);
  report.check(`${RUNS}/${RUNS} runs completed`, completed === RUNS && runs.rows.length === RUNS);
  const expectedTypes =
    'draft_cycle_started,draft_cycle_critic_completed,draft_cycle_maker_completed,draft_cycle_judge_completed,draft_cycle_completed,session_closed';
  const timelines = await db.pool.query<{ types: string }>(
    `select string_agg(type, ',' order by seq) as types from session_events where session_id = any($1) group by session_id`,
    [runSessions],
  );
  const wrong = RUNS - timelines.rows.filter((t) => t.types === expectedTypes).length;
  report.check(
    'every run timeline is exactly started, critic, maker, judge, completed, closed',
    wrong === 0,
    `${wrong} differ`,
  );
  const markers = await db.pool.query<{ marker: string; n: number }>(
    `select payload->>'marker' as marker, count(*)::int as n from session_events
      where type in ('chaos_ingest', 'chaos_note') group by 1`,
  );
  const perMarker = new Map(markers.rows.map((r) => [r.marker, r.n]));
  for (const kind of ['ingest', 'append'] as const) {
    const sent = [...acknowledged[kind]];
    const missing = sent.filter((m) => !perMarker.has(m)).length;
    const duplicated = [...perMarker].filter(([m, n]) => m.startsWith(`${kind}-`) && n > 1).length;
    const unacknowledged = [...perMarker.keys()].filter(
      (m) => m.startsWith(`${kind}-`) && !acknowledged[kind].has(m),
    ).length;
    report.figure(
      `${kind} events`,
      `${sent.length} acknowledged, ${missing} missing, ${duplicated} duplicated, ${unacknowledged} unacknowledged`,
    );
    report.check(
      `${kind}: acknowledged events exactly once${kind === 'append' ? ' (unanswered ones at most once)' : ''}`,
      missing === 0 &&
        duplicated === 0 &&
        (kind === 'append' ? unacknowledged <= lb.ambiguous.length : unacknowledged === 0),
    );
  }
  const problems = await timelineProblems(db.pool);
  report.check(
    'every session: seq gap-free, counters match rows',
    problems.length === 0,
    problems.slice(0, 3).join('; '),
  );

  // --- SSE on the surviving replicas ---
  const lastSeq = new Map(
    (await db.pool.query<{ id: string; last_seq: number }>('select id, last_seq from sessions')).rows.map(
      (r) => [r.id, r.last_seq],
    ),
  );
  const caughtUp = () => streams.every((s) => s.seqs.length >= (lastSeq.get(s.sessionId) ?? 0));
  for (const deadline = Date.now() + 30_000; Date.now() < deadline && !caughtUp(); ) await sleep(100);
  const catchUpSeconds = (Date.now() - lastWriteAt) / 1000;
  for (const s of streams) s.stop();
  await Promise.allSettled(streams.map((s) => s.done));
  const incomplete = streams.filter((s) => {
    const want = lastSeq.get(s.sessionId) ?? 0;
    return s.seqs.length !== want || s.seqs.some((seq, i) => seq !== i + 1);
  });
  const delivered = streams.reduce((n, s) => n + s.seqs.length, 0);
  report.figure(
    'SSE streams on surviving replicas',
    `${streams.length} streams, ${delivered} events delivered`,
  );
  report.check(
    'every SSE client saw every event of its session, in order, once',
    incomplete.length === 0,
    incomplete
      .slice(0, 3)
      .map((s) => `${s.sessionId}: ${s.seqs.length}/${lastSeq.get(s.sessionId)}`)
      .join('; '),
  );
  report.figure('SSE caught up after the last write', `${catchUpSeconds.toFixed(1)} s`);
  // Live fan-out (NOTIFY from whichever replica wrote), not the stream's 15 s heartbeat catch-up read, must deliver
  // the events: the lag from commit to arrival, for events committed after the client connected.
  const created = new Map(
    (
      await db.pool.query<{ session_id: string; seq: number; ms: number }>(
        'select session_id, seq, (extract(epoch from created_at) * 1000)::float8 as ms from session_events',
      )
    ).rows.map((r) => [`${r.session_id}/${r.seq}`, r.ms]),
  );
  const lags: number[] = [];
  for (const s of streams)
    s.seqs.forEach((seq, i) => {
      const at = created.get(`${s.sessionId}/${seq}`);
      if (at !== undefined && at > s.openedAt) lags.push(s.arrivedAt[i]! - at);
    });
  const lagP99 = percentile(lags, 99);
  report.figure(
    'SSE delivery lag (commit → client, live events)',
    `${lags.length} events: p50 ${percentile(lags, 50).toFixed(0)} ms, p99 ${lagP99.toFixed(0)} ms, max ${Math.max(...lags).toFixed(0)} ms`,
  );
  report.check(
    'SSE delivery is live (p99 lag ≤ 2 s; the heartbeat catch-up alone would be up to 15 s)',
    lags.length > 0 && lagP99 <= 2000,
  );
  report.check(
    'the surviving replicas stayed up',
    survivors.every((r) => r.alive()),
  );
});
