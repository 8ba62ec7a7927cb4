import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Job, JobQueue } from '../../src/jobs/job-queue.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const queueOptions = { retryLimit: 2, retryDelaySeconds: 1, expireInSeconds: 60 };
const quiet = { warn: () => undefined, error: () => undefined };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await sleep(20);
}

describe('job queue workers (one fetch loop per queue)', () => {
  let db: TestDatabase;
  let jobs: JobQueue;
  let fetches: Record<string, number>;

  beforeAll(async () => {
    db = await createTestDatabase();
    jobs = await JobQueue.start(
      db.database,
      quiet,
      ['deferred', 'notified', 'retried', 'heartbeat'].map((name) => ({
        name: `agw-test-${name}`,
        ...queueOptions,
        ...(name === 'heartbeat' ? { heartbeatSeconds: 10 } : {}),
      })),
    );
    // Count the real fetches each queue makes (pg-boss's own method, wrapped; the database is real).
    fetches = {};
    const boss = (jobs as unknown as { boss: { fetch: (name: string, ...rest: unknown[]) => unknown } }).boss;
    const fetch = boss.fetch.bind(boss);
    boss.fetch = (name: string, ...rest: unknown[]) => {
      fetches[name] = (fetches[name] ?? 0) + 1;
      return fetch(name, ...rest);
    };
  });
  afterAll(async () => {
    await jobs?.stop();
    await db?.cleanup();
  });

  it('deferred jobs that come due together are claimed together and run side by side', async () => {
    const count = 6;
    const started: string[] = [];
    const done: string[] = [];
    let active = 0;
    let widest = 0;
    await jobs.work<{ n: number }>(
      'agw-test-deferred',
      8,
      async (job: Job<{ n: number }>) => {
        started.push(job.id);
        active += 1;
        widest = Math.max(widest, active);
        // Each job waits until all of them have started: they can only finish if they run at the same time.
        await until(() => started.length >= count, 10_000);
        active -= 1;
        if (started.length < count) throw new Error('jobs did not run side by side');
        done.push(job.id);
      },
      { deferredPollSeconds: 2 },
    );
    for (let n = 0; n < count; n++) await jobs.send('agw-test-deferred', { n }, { startAfterSeconds: 1 });
    await until(() => done.length >= count, 20_000);
    expect(done).toHaveLength(count);
    expect(widest).toBe(count);
  });

  it("a job sent is claimed at once through pg-boss's NOTIFY, with one fetch, not one per idle worker", async () => {
    const seen: number[] = [];
    await jobs.work<{ n: number }>('agw-test-notified', 20, async (job) => {
      seen.push(job.data.n);
    });
    await sleep(300); // past the first fetch every worker makes when it starts
    const before = fetches['agw-test-notified'] ?? 0;
    const sentAt = Date.now();
    await jobs.send('agw-test-notified', { n: 1 });
    await until(() => seen.length === 1, 10_000);
    // Well inside the 5 s poll: the notification woke the loop (a changed channel name would fail here).
    expect(Date.now() - sentAt).toBeLessThan(2500);
    for (let n = 2; n <= 10; n++) {
      await jobs.send('agw-test-notified', { n });
      await sleep(30);
    }
    await until(() => seen.length === 10, 10_000);
    expect(seen.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // One fetch per notification (and perhaps a poll), where 20 pg-boss workers each fetched on every one.
    expect((fetches['agw-test-notified'] ?? 0) - before).toBeLessThanOrEqual(14);
  });

  it('a handler that throws fails the job and pg-boss retries it', async () => {
    const attempts: number[] = [];
    await jobs.work<{ n: number }>('agw-test-retried', 4, async (job) => {
      attempts.push(job.retryCount);
      if (job.retryCount === 0) throw new Error('first attempt fails');
    });
    await jobs.send('agw-test-retried', { n: 1 });
    await until(() => attempts.length === 2, 15_000);
    expect(attempts).toEqual([0, 1]);
  });

  it('a job running longer than its heartbeat is kept alive by the heartbeat, runs once and completes', async () => {
    const runs: string[] = [];
    await jobs.work<{ n: number }>('agw-test-heartbeat', 2, async (job) => {
      runs.push(job.id);
      // Without heartbeats the supervisor (every 5 s) takes a job back 10–15 s after its claim, and the completion
      // below would then be refused: it is fenced to the attempt that was fetched.
      await sleep(21_000);
    });
    const id = await jobs.send('agw-test-heartbeat', { n: 1 });
    await until(() => runs.length > 0, 10_000);
    const boss = (
      jobs as unknown as { boss: { getJobById(q: string, id: string): Promise<{ state: string } | null> } }
    ).boss;
    await sleep(21_000);
    // Completed once the handler returns (a loaded machine may take a moment to commit it), and run once.
    const state = () => boss.getJobById('agw-test-heartbeat', id as string).then((job) => job?.state);
    for (const deadline = Date.now() + 10_000; (await state()) !== 'completed' && Date.now() < deadline; )
      await sleep(100);
    expect(await state()).toBe('completed');
    expect(runs).toEqual([id]);
  }, 50_000);
});
