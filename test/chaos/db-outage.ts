/**
 * Database outage: signed ingest and admin appends at a steady rate; the gateway's PostgreSQL (a private cluster,
 * never the shared server) is stopped for 10 s and started again. Promises: while it is down every write gets 503
 * (never 201) and `/ready` is 503; afterwards the gateway recovers by itself; every 201 has its event; senders that
 * retry their 503s end with every event exactly once and gap-free seq. Counts come from the database.
 *
 *   npm run chaos:db-outage   (CHAOS_OUTAGE_SECONDS=10, CHAOS_SENDERS=2 per kind, CHAOS_SEND_INTERVAL_MS=100)
 */
import pg from 'pg';
import { startMockProvider } from '../../src/mock-provider/mock-provider.js';
import {
  adminHeaders,
  ChaosReport,
  CYCLE_EVENTS,
  countOf,
  envInt,
  follow,
  type GatewayProcess,
  log,
  mockRolesEnv,
  percentile,
  privatePostgresCluster,
  request,
  runScenario,
  signedIngest,
  sleep,
  startGateway,
  timelineProblems,
} from './chaos-support.js';

const OUTAGE_SECONDS = envInt('CHAOS_OUTAGE_SECONDS', 10);
const SENDERS = envInt('CHAOS_SENDERS', 2);
const INTERVAL_MS = envInt('CHAOS_SEND_INTERVAL_MS', 100);
const WARMUP_MS = 3000;
const AFTER_MS = 8000;
const TOKEN = 'chaos-outage-token-0123456789abcdef';
const SECRET = 'chaos-outage-webhook-secret-0123456789';
const RECOVERY_BOUND_S = 15;
const RUNS = envInt('CHAOS_OUTAGE_RUNS', 20);
const LEASE_SECONDS = envInt('CHAOS_RUN_LEASE_SECONDS', 5);

const CYCLE = CYCLE_EVENTS.join(',');

interface Attempt {
  kind: 'ingest' | 'append';
  marker: string;
  sentAt: number;
  doneAt: number;
  status: number;
  code: string | null;
  eventId: string | null;
}

const report = new ChaosReport(
  `chaos:db-outage (PostgreSQL stopped ${OUTAGE_SECONDS} s under ingest + appends)`,
);

await runScenario(report, async (cleanups) => {
  const cluster = await privatePostgresCluster();
  cleanups.push(() => cluster.drop());
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query('drop database if exists agw_outage with (force)');
  await admin.query('create database agw_outage');
  await admin.end();
  const dbUrl = cluster.url.replace(/\/postgres$/, '/agw_outage');

  let gateway: GatewayProcess | undefined;
  cleanups.push(async () => gateway?.stop('SIGKILL'));
  const mock = await startMockProvider();
  cleanups.push(() => mock.close());
  gateway = await startGateway('gateway', {
    DATABASE_URL: dbUrl,
    ADMIN_API_TOKEN: TOKEN,
    AGENT_GATEWAY_WEBHOOK_SECRET: SECRET,
    AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMIT_MAX: '1000000',
    AGENT_ORCHESTRATION_RUN_LEASE_SECONDS: String(LEASE_SECONDS),
    ...mockRolesEnv(mock.url, 700),
  });
  const url = gateway.url;
  const headers = adminHeaders(TOKEN);
  const appendSessions: string[] = [];
  for (let i = 0; i < SENDERS; i++) {
    const res = await request(`${url}/api/admin/agent-gateway/sessions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ channel: 'chaos-append', externalSessionId: `append-${i}` }),
    });
    if (res.status !== 201) throw new Error(`session create answered ${res.status}`);
    appendSessions.push((res.body as { session: { id: string } }).session.id);
  }

  // A live follower of one session across the outage (its LISTEN connection dies with the server and must come back).
  const stream = follow(url, appendSessions[0]!, TOKEN);
  const attempts: Attempt[] = [];
  const acknowledged = { ingest: new Set<string>(), append: new Set<string>() };
  const gaveUp: string[] = [];
  let producing = true;

  async function sendOnce(kind: Attempt['kind'], sender: number, marker: string): Promise<Attempt> {
    const sentAt = Date.now();
    let res: Awaited<ReturnType<typeof request>>;
    if (kind === 'ingest') {
      const raw = JSON.stringify({
        connectorId: 'chaos',
        eventId: marker,
        channel: 'chaos-chat',
        externalSessionId: `ingest-${sender}`,
        fromRole: 'observer',
        type: 'chaos_ingest',
        payload: { marker },
      });
      res = await request(`${url}/api/agent-gateway/adapters/ingest`, signedIngest(SECRET, raw));
    } else {
      res = await request(`${url}/api/admin/agent-gateway/sessions/${appendSessions[sender]}/events`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ fromRole: 'observer', type: 'chaos_note', payload: { marker } }),
      });
    }
    const body = res.body as { error?: string; event?: { id: string } } | null;
    const attempt: Attempt = {
      kind,
      marker,
      sentAt,
      doneAt: Date.now(),
      status: res.status,
      code: body?.error ?? res.error ?? null,
      eventId: body?.event?.id ?? null,
    };
    attempts.push(attempt);
    return attempt;
  }

  /** One sender: a new message every INTERVAL_MS; a message answered 503 (or not at all) is retried until it lands. */
  async function sender(kind: Attempt['kind'], index: number): Promise<void> {
    let n = 0;
    while (producing) {
      const marker = `${kind}-${index}-${n++}`;
      const next = Date.now() + INTERVAL_MS;
      for (let tries = 0; ; tries++) {
        const attempt = await sendOnce(kind, index, marker);
        if (attempt.status === 201 || attempt.status === 200) {
          acknowledged[kind].add(marker);
          break;
        }
        if ((attempt.status !== 503 && attempt.status !== 0) || tries > 400 || !gateway?.alive()) {
          gaveUp.push(`${marker}: ${attempt.status} ${attempt.code}`);
          break;
        }
        await sleep(250);
      }
      await sleep(Math.max(0, next - Date.now()));
    }
  }

  const readyProbes: { at: number; status: number; ms: number; db: string | null }[] = [];
  let probing = true;
  const readyLoop = (async () => {
    while (probing) {
      const at = Date.now();
      const res = await request(`${url}/ready`, { timeoutMs: 5000 });
      readyProbes.push({
        at,
        status: res.status,
        ms: res.ms,
        db: (res.body as { db?: string } | null)?.db ?? null,
      });
      await sleep(200);
    }
  })();

  const senders = [
    ...Array.from({ length: SENDERS }, (_, i) => sender('ingest', i)),
    ...Array.from({ length: SENDERS }, (_, i) => sender('append', i)),
  ];
  await sleep(WARMUP_MS - 1000);
  // Draft cycles in flight when the database goes: each step takes 0.7 s, so the stop lands mid-run.
  const draft = await request(`${url}/api/admin/drafts`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ title: 'outage', body: 'mid-run' }),
  });
  const draftId = (draft.body as { draft: { id: string } }).draft.id;
  const runsStarted = await Promise.all(
    Array.from({ length: RUNS }, () =>
      request(`${url}/api/admin/agent-gateway/orchestrate`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ draftId, async: true }),
      }),
    ),
  );
  const runIds = runsStarted.filter((r) => r.status === 202).map((r) => (r.body as { runId: string }).runId);
  await sleep(1000);
  const probe = new pg.Client({ connectionString: dbUrl });
  await probe.connect();
  const atStop = (
    await probe.query<{ steps: number; done: number }>(
      `select (select count(*)::int from orchestration_steps) as steps,
              (select count(*)::int from orchestration_runs where status = 'completed') as done`,
    )
  ).rows[0]!;
  await probe.end();
  report.figure(
    'draft cycles when PostgreSQL stopped',
    `${atStop.steps}/${RUNS * 3} steps committed, ${atStop.done}/${RUNS} runs done`,
  );
  report.check('the outage landed mid-run', atStop.done < RUNS);
  log('stopping PostgreSQL');
  const stopCalledAt = Date.now();
  await cluster.stop();
  const downAt = Date.now();
  log(`PostgreSQL down (stop took ${downAt - stopCalledAt} ms); holding ${OUTAGE_SECONDS} s`);
  await sleep(OUTAGE_SECONDS * 1000);
  const startCalledAt = Date.now();
  await cluster.start();
  const upAt = Date.now();
  log(`PostgreSQL up again (start took ${upAt - startCalledAt} ms)`);
  await sleep(AFTER_MS);
  producing = false;
  await Promise.race([Promise.all(senders), sleep(60_000)]);
  const runsFinishedBy = Date.now() + 60_000;
  probing = false;
  await readyLoop;

  // --- What the clients saw ---
  const during = attempts.filter((a) => a.sentAt >= downAt && a.doneAt <= startCalledAt);
  const duringStatuses = tally(during.map((a) => `${a.status}${a.code ? ` ${a.code}` : ''}`));
  const writesDuring = during.filter((a) => a.status === 201 || a.status === 200);
  const unexpected = attempts.filter((a) => ![200, 201, 503].includes(a.status));
  report.figure('requests (attempts incl. retries)', attempts.length);
  report.figure(
    'logical messages acknowledged',
    `ingest ${acknowledged.ingest.size}, append ${acknowledged.append.size}`,
  );
  report.figure('attempts while PostgreSQL was down', `${during.length}: ${duringStatuses}`);
  report.figure('attempt statuses overall', tally(attempts.map((a) => String(a.status))));
  report.check('writes were attempted during the outage', during.length >= 10, `${during.length}`);
  report.check('no 201/200 while PostgreSQL was down', writesDuring.length === 0, `${writesDuring.length}`);
  report.check(
    'every failed attempt was a 503 (no 500, no timeout, no dropped connection)',
    unexpected.length === 0,
    unexpected
      .slice(0, 5)
      .map((a) => `${a.kind} ${a.status} ${a.code}`)
      .join('; '),
  );
  const slowest = Math.max(...during.map((a) => a.doneAt - a.sentAt));
  report.figure('slowest answer during the outage', `${slowest} ms`);
  report.check('503s come fast during the outage (≤ 5 s)', slowest <= 5000, `${slowest} ms`);
  report.check('no sender gave up', gaveUp.length === 0, gaveUp.slice(0, 3).join('; '));

  const readyDuring = readyProbes.filter((p) => p.at >= downAt + 1500 && p.at + p.ms <= startCalledAt);
  report.figure('/ready during the outage', tally(readyDuring.map((p) => `${p.status} db=${p.db}`)));
  report.check(
    '/ready is 503 with db "down" throughout the outage',
    readyDuring.length > 0 && readyDuring.every((p) => p.status === 503 && p.db === 'down'),
  );
  report.figure(
    '/ready p99 latency',
    `${percentile(
      readyProbes.map((p) => p.ms),
      99,
    )} ms`,
  );
  const readyBack = readyProbes.find((p) => p.at >= upAt && p.status === 200);
  const ingestBack = attempts.find((a) => a.kind === 'ingest' && a.sentAt >= upAt && a.status === 201);
  const appendBack = attempts.find((a) => a.kind === 'append' && a.sentAt >= upAt && a.status === 201);
  const secs = (t: number | undefined) => (t === undefined ? Number.POSITIVE_INFINITY : (t - upAt) / 1000);
  const recovery = {
    ready: secs(readyBack ? readyBack.at + readyBack.ms : undefined),
    ingest: secs(ingestBack?.doneAt),
    append: secs(appendBack?.doneAt),
  };
  report.figure(
    'recovery after PostgreSQL start',
    `/ready 200 in ${recovery.ready.toFixed(1)} s, ingest 201 in ${recovery.ingest.toFixed(1)} s, append 201 in ${recovery.append.toFixed(1)} s`,
  );
  report.check(
    `recovered by itself within ${RECOVERY_BOUND_S} s (ready, ingest, appends)`,
    Math.max(recovery.ready, recovery.ingest, recovery.append) <= RECOVERY_BOUND_S,
  );
  if (!report.check('the gateway process stayed up', gateway.alive()))
    log(
      `gateway exited (${gateway.child.exitCode ?? gateway.child.signalCode}); its last output:\n${gateway.output().slice(-4000)}`,
    );

  // --- What the database holds ---
  const pool = new pg.Pool({ connectionString: dbUrl, max: 2 });
  try {
    const rows = await pool.query<{ id: string; marker: string; type: string }>(
      `select id, payload->>'marker' as marker, type from session_events where type in ('chaos_ingest', 'chaos_note')`,
    );
    const ids = new Set(rows.rows.map((r) => r.id));
    const perMarker = new Map<string, number>();
    for (const r of rows.rows) perMarker.set(r.marker, (perMarker.get(r.marker) ?? 0) + 1);
    const created = attempts.filter((a) => a.status === 201);
    const without = created.filter((a) => !a.eventId || !ids.has(a.eventId));
    report.figure('201 answers', created.length);
    report.check(
      'every 201 has its event in the database',
      without.length === 0,
      `${without.length} missing`,
    );
    for (const kind of ['ingest', 'append'] as const) {
      const sent = [...acknowledged[kind]];
      const missing = sent.filter((m) => !perMarker.has(m)).length;
      const duplicated = sent.filter((m) => (perMarker.get(m) ?? 0) > 1).length;
      const stray = [...perMarker.keys()].filter(
        (m) => m.startsWith(`${kind}-`) && !acknowledged[kind].has(m),
      ).length;
      report.figure(
        `${kind} events`,
        `${sent.length} acknowledged, ${missing} missing, ${duplicated} duplicated, ${stray} unacknowledged`,
      );
      report.check(
        `${kind}: every acknowledged message exactly once`,
        missing === 0 && duplicated === 0 && stray === 0,
      );
    }
    const dedupRows = await countOf(
      pool,
      "select count(*) as n from ingest_dedup where connector_id = 'chaos'",
    );
    report.check(
      'one dedup row per ingested message',
      dedupRows === acknowledged.ingest.size,
      `${dedupRows} rows`,
    );
    const followed = await commitTimes(pool, appendSessions[0]!);
    for (let i = 0; i < 50 && stream.seqs.length < followed.length; i++) await sleep(100);
    stream.stop();
    await stream.done.catch(() => undefined);
    // Events committed once the gateway's LISTEN connection is back (it retries every second) must arrive live, not
    // through the stream's 15 s heartbeat catch-up read.
    const lags: number[] = [];
    stream.seqs.forEach((seq, i) => {
      const at = followed[seq - 1];
      if (at !== undefined && at > upAt + 3000) lags.push(stream.arrivedAt[i]! - at);
    });
    const lagP99 = percentile(lags, 99);
    report.figure(
      'SSE follower across the outage',
      `${stream.seqs.length}/${followed.length} events; lag after recovery p99 ${lagP99.toFixed(0)} ms over ${lags.length} events`,
    );
    report.check(
      'an SSE client connected through the outage sees every event once, in order, and live again (p99 lag ≤ 2 s)',
      stream.seqs.join() === followed.map((_, i) => i + 1).join() && lags.length > 0 && lagP99 <= 2000,
    );
    // After the outage the whole machinery works again: a synchronous draft cycle (jobs, NOTIFY wake-up) completes.
    const draft = await request(`${url}/api/admin/drafts`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ title: 'after the outage', body: 'still here' }),
    });
    const cycle = await request(`${url}/api/admin/agent-gateway/orchestrate`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        draftId: (draft.body as { draft?: { id: string } })?.draft?.id,
        waitMs: 20_000,
      }),
      timeoutMs: 30_000,
    });
    report.check(
      'a draft cycle completes after the outage (jobs and notifications recovered)',
      cycle.status === 201 && (cycle.body as { completed?: boolean }).completed === true,
      `${cycle.status}`,
    );
    // Runs caught mid-step by the outage resume from their jobs once it is over.
    let runRows: { status: string; types: string | null }[] = [];
    for (;;) {
      runRows = (
        await pool.query<{ status: string; types: string | null }>(
          `select r.status, (select string_agg(type, ',' order by seq) from session_events e where e.session_id = r.session_id) as types
             from orchestration_runs r where r.id = any($1)`,
          [runIds],
        )
      ).rows;
      if (
        runRows.every((r) => r.status === 'completed' || r.status === 'failed') ||
        Date.now() > runsFinishedBy
      )
        break;
      await sleep(250);
    }
    const runsCompleted = runRows.filter((r) => r.status === 'completed' && r.types === CYCLE).length;
    report.figure(
      'draft cycles in flight across the outage',
      `${runIds.length} started, ${runsCompleted} completed with their six events`,
    );
    report.check(
      `${RUNS} draft cycles interrupted by the outage complete afterwards, each step once`,
      runIds.length === RUNS && runsCompleted === RUNS,
    );
    const problems = await timelineProblems(pool);
    report.check(
      'seq gap-free and counters match rows in every session',
      problems.length === 0,
      problems.slice(0, 3).join('; '),
    );
  } finally {
    await pool.end();
  }
});

function tally(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n}× ${k}`).join(', ') || 'none';
}

/** Commit times (epoch ms) of a session's events, by seq - 1. */
async function commitTimes(pool: pg.Pool, sessionId: string): Promise<number[]> {
  const { rows } = await pool.query<{ ms: number }>(
    'select (extract(epoch from created_at) * 1000)::float8 as ms from session_events where session_id = $1 order by seq',
    [sessionId],
  );
  return rows.map((r) => r.ms);
}
