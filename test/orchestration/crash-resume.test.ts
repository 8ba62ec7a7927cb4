import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/database.js';
import { type MockProvider, startMockProvider } from '../../src/mock-provider/mock-provider.js';
import { childEnv, startProcess, stopProcess } from '../helpers/processes.js';
import { createTestDatabase, type TestDatabase, usingPostgres } from '../helpers/test-database.js';
import { COMPLETED_CYCLE_EVENT_TYPES } from '../helpers/test-gateway.js';

const TOKEN = 'crash-test-token-0123456789abcdef';

describe.runIf(usingPostgres)('crash resume on real PostgreSQL', () => {
  let db: TestDatabase;
  let mock: MockProvider;
  beforeAll(async () => {
    db = await createTestDatabase();
    mock = await startMockProvider();
  });
  afterAll(async () => {
    await mock?.close();
    await db?.cleanup();
  });

  function gatewayEnv() {
    const endpoint = `${mock.url}/v1`;
    return childEnv({
      DATABASE_URL: db.url!,
      PORT: '0',
      ADMIN_API_TOKEN: TOKEN,
      LOG_LEVEL: 'warn',
      AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
      AI_RUNTIME_SLOW_KIND: 'openai',
      AI_RUNTIME_SLOW_ENDPOINT: endpoint,
      AI_RUNTIME_SLOW_API_KEY: 'slow-key-0123456789',
      AI_RUNTIME_SLOW_MODEL: 'mock-latency-300',
      AI_CRITIC_MODEL_CHAIN: 'slow',
      AI_MAKER_MODEL_CHAIN: 'slow',
      AI_JUDGE_MODEL_CHAIN: 'slow',
    });
  }

  async function count(query: ReturnType<typeof sql>) {
    const rows = await queryRows<{ n: number }>(db.database.orm, query);
    return rows[0]?.n ?? 0;
  }

  it('20 cycles in flight, worker SIGKILLed, a new process finishes 20/20 with one event per step and gap-free seq', async () => {
    const first = await startProcess('node', ['dist/main.js'], gatewayEnv(), /listening on (http:\/\/\S+)/);
    const url = first.match[1]!;
    const headers = { 'x-admin-token': TOKEN, 'content-type': 'application/json' };
    const draft = (await (
      await fetch(`${url}/api/admin/drafts`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ title: 'crash', body: 'survive a kill' }),
      })
    ).json()) as { draft: { id: string } };
    const started = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const res = await fetch(`${url}/api/admin/agent-gateway/orchestrate`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ draftId: draft.draft.id, async: true }),
        });
        expect(res.status).toBe(202);
        return ((await res.json()) as { runId: string }).runId;
      }),
    );
    // Kill mid-run: some steps committed, not all.
    for (let i = 0; i < 200; i++) {
      if ((await count(sql`select count(*)::int as n from orchestration_steps`)) >= 10) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await stopProcess(first.child, 'SIGKILL');
    const stepsAtKill = await count(sql`select count(*)::int as n from orchestration_steps`);
    expect(stepsAtKill).toBeGreaterThan(0);
    expect(stepsAtKill).toBeLessThan(60);

    const second = await startProcess('node', ['dist/main.js'], gatewayEnv(), /listening on (http:\/\/\S+)/);
    try {
      for (let i = 0; i < 1500; i++) {
        if (
          (await count(sql`select count(*)::int as n from orchestration_runs where status = 'completed'`)) ===
          20
        )
          break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const runs = await queryRows<{ id: string; status: string; session_id: string }>(
        db.database.orm,
        sql`select id, status, session_id from orchestration_runs`,
      );
      expect(runs.map((r) => r.id).sort()).toEqual([...started].sort());
      expect(runs.filter((r) => r.status === 'completed')).toHaveLength(20);
      for (const run of runs) {
        const events = await queryRows<{ seq: number; type: string }>(
          db.database.orm,
          sql`select seq, type from session_events where session_id = ${run.session_id} order by seq`,
        );
        expect(events.map((e) => e.type)).toEqual([...COMPLETED_CYCLE_EVENT_TYPES]);
        expect(events.map((e) => Number(e.seq))).toEqual([1, 2, 3, 4, 5, 6]);
      }
      process.stdout.write(
        `crash-resume: ${stepsAtKill} steps committed at SIGKILL; 20/20 runs completed after restart\n`,
      );
    } finally {
      await stopProcess(second.child);
    }
  }, 240_000);
});
