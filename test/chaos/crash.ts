/**
 * Crash: N draft cycles in flight on real PostgreSQL, SIGKILL the gateway mid-run, start a new process →
 * N/N runs complete, every step event exactly once, seq gap-free. Counts come from the database.
 *
 *   npm run chaos:crash   (CHAOS_CRASH_RUNS=100, CHAOS_RUN_LEASE_SECONDS=5, CHAOS_STEP_LATENCY_MS=400)
 */
import { startMockProvider } from '../../src/mock-provider/mock-provider.js';
import {
  adminHeaders,
  ChaosReport,
  CYCLE_EVENTS,
  countOf,
  createChaosDatabase,
  envInt,
  type GatewayProcess,
  log,
  mockRolesEnv,
  request,
  runScenario,
  sleep,
  startGateway,
  timelineProblems,
} from './chaos-support.js';

const RUNS = envInt('CHAOS_CRASH_RUNS', 100);
const LEASE_SECONDS = envInt('CHAOS_RUN_LEASE_SECONDS', 5);
const STEP_LATENCY_MS = envInt('CHAOS_STEP_LATENCY_MS', 400);
const RECOVERY_TIMEOUT_MS = envInt('CHAOS_RECOVERY_TIMEOUT_SECONDS', 120) * 1000;
const TOKEN = 'chaos-crash-token-0123456789abcdef';
const EXPECTED = CYCLE_EVENTS;

const report = new ChaosReport(`chaos:crash (${RUNS} draft cycles, SIGKILL mid-run, restart)`);

await runScenario(report, async (cleanups) => {
  const db = await createChaosDatabase();
  cleanups.push(() => db.drop());
  const mock = await startMockProvider();
  cleanups.push(() => mock.close());
  const env = {
    DATABASE_URL: db.url,
    ADMIN_API_TOKEN: TOKEN,
    AGENT_ORCHESTRATION_RUN_LEASE_SECONDS: String(LEASE_SECONDS),
    ...mockRolesEnv(mock.url, STEP_LATENCY_MS),
  };
  let gateway: GatewayProcess | undefined;
  cleanups.push(async () => gateway?.stop('SIGKILL'));
  gateway = await startGateway('first', env);
  const headers = adminHeaders(TOKEN);
  const draft = await request(`${gateway.url}/api/admin/drafts`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ title: 'crash', body: 'survive a SIGKILL' }),
  });
  if (draft.status !== 201) throw new Error(`draft create answered ${draft.status}`);
  const draftId = (draft.body as { draft: { id: string } }).draft.id;

  const started = await Promise.all(
    Array.from({ length: RUNS }, async () => {
      const res = await request(`${gateway!.url}/api/admin/agent-gateway/orchestrate`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ draftId, async: true }),
      });
      return res.status === 202 ? (res.body as { runId: string }).runId : undefined;
    }),
  );
  const runIds = started.filter((id): id is string => id !== undefined);
  report.check(`${RUNS} orchestrations accepted (202)`, runIds.length === RUNS, `${runIds.length} accepted`);

  // Kill mid-run: about a third of the steps committed, the rest in flight or queued.
  const totalSteps = RUNS * 3;
  const killAfterSteps = Math.max(1, Math.floor(totalSteps / 3));
  const steps = () => countOf(db.pool, 'select count(*) as n from orchestration_steps');
  for (let i = 0; i < 600 && (await steps()) < killAfterSteps; i++) await sleep(20);
  await gateway.stop('SIGKILL');
  const killedAt = Date.now();
  const stepsAtKill = await steps();
  const completedAtKill = await countOf(
    db.pool,
    "select count(*) as n from orchestration_runs where status = 'completed'",
  );
  report.figure('steps committed at SIGKILL', `${stepsAtKill}/${totalSteps}`);
  report.figure('runs completed at SIGKILL', `${completedAtKill}/${RUNS}`);
  report.check(
    'SIGKILL landed mid-run (some steps committed, some runs unfinished)',
    stepsAtKill > 0 && completedAtKill < RUNS,
  );
  log(`SIGKILL with ${stepsAtKill}/${totalSteps} steps and ${completedAtKill}/${RUNS} runs done; restarting`);

  gateway = await startGateway('second', env);
  const restartedAt = Date.now();
  report.figure('restart to listening', `${((restartedAt - killedAt) / 1000).toFixed(1)} s`);
  let completed = 0;
  while (Date.now() - restartedAt < RECOVERY_TIMEOUT_MS) {
    completed = await countOf(
      db.pool,
      "select count(*) as n from orchestration_runs where status in ('completed', 'failed')",
    );
    if (completed >= RUNS) break;
    await sleep(200);
  }
  const recoveredAt = Date.now();
  const recoverySeconds = (recoveredAt - killedAt) / 1000;
  report.figure(
    'recovery (SIGKILL → last run finished)',
    `${recoverySeconds.toFixed(1)} s (lease ${LEASE_SECONDS} s)`,
  );
  // The backstop: a run's deferred job (one lease) or a dead worker's job (10 s heartbeat + 5 s supervision + retry).
  const bound = LEASE_SECONDS + 25;
  report.check(
    `recovered within lease + 25 s (${bound} s)`,
    recoverySeconds <= bound,
    `${recoverySeconds.toFixed(1)} s`,
  );

  // Everything below is read from the database, not from what the client was told.
  const runs = await db.pool.query<{ id: string; status: string; session_id: string }>(
    'select id, status, session_id from orchestration_runs',
  );
  const dbIds = new Set(runs.rows.map((r) => r.id));
  const okRuns = runs.rows.filter((r) => r.status === 'completed').length;
  report.figure('runs completed after restart', `${okRuns}/${RUNS}`);
  report.check(
    `${RUNS}/${RUNS} runs completed`,
    okRuns === RUNS,
    `${okRuns} completed, ${runs.rows.length - okRuns} not`,
  );
  report.check(
    'the database holds exactly the accepted runs',
    dbIds.size === runIds.length && runIds.every((id) => dbIds.has(id)),
    `${dbIds.size} rows for ${runIds.length} accepted`,
  );

  const events = await db.pool.query<{ session_id: string; seq: number; type: string }>(
    `select e.session_id, e.seq, e.type from session_events e
       join orchestration_runs r on r.session_id = e.session_id order by e.session_id, e.seq`,
  );
  const bySession = new Map<string, string[]>();
  for (const e of events.rows) {
    const list = bySession.get(e.session_id) ?? [];
    list.push(e.type);
    bySession.set(e.session_id, list);
  }
  let lost = 0;
  let duplicated = 0;
  let wrongOrder = 0;
  for (const run of runs.rows) {
    const types = bySession.get(run.session_id) ?? [];
    for (const type of EXPECTED) {
      const n = types.filter((t) => t === type).length;
      if (n === 0) lost++;
      if (n > 1) duplicated += n - 1;
    }
    if (types.join(',') !== EXPECTED.join(',')) wrongOrder++;
  }
  const stepRows = await countOf(db.pool, 'select count(*) as n from orchestration_steps');
  const distinctSteps = await countOf(
    db.pool,
    'select count(*) as n from (select distinct run_id, step_index from orchestration_steps) s',
  );
  const problems = await timelineProblems(
    db.pool,
    runs.rows.map((r) => r.session_id),
  );
  report.figure('events in run sessions', `${events.rows.length} (expected ${RUNS * EXPECTED.length})`);
  report.figure('lost events', lost);
  report.figure('duplicated events', duplicated);
  report.figure('step rows', `${stepRows} (${distinctSteps} distinct (run, step))`);
  report.check('zero lost events', lost === 0, `${lost} missing`);
  report.check('zero duplicated events', duplicated === 0, `${duplicated} extra`);
  report.check(
    'every timeline is started, critic, maker, judge, completed, closed',
    wrongOrder === 0,
    `${wrongOrder} differ`,
  );
  report.check('one step row per (run, step)', stepRows === RUNS * 3 && distinctSteps === stepRows);
  report.check(
    'seq gap-free and counters match rows in every session',
    problems.length === 0,
    problems.slice(0, 3).join('; '),
  );
  report.check('restarted gateway still running', gateway.alive());
});
