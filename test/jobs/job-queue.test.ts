import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Job, JobQueue } from '../../src/jobs/job-queue.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const DEFERRED = 'agw-test-deferred';
const IDLE = 'agw-test-idle';
const queueOptions = { retryLimit: 0, retryDelaySeconds: 1, expireInSeconds: 60 };
const quiet = { warn: () => undefined, error: () => undefined };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('job queue workers', () => {
  let db: TestDatabase;
  let jobs: JobQueue;

  beforeAll(async () => {
    db = await createTestDatabase();
    jobs = await JobQueue.start(db.database, quiet, [
      { name: DEFERRED, ...queueOptions },
      { name: IDLE, ...queueOptions },
    ]);
  });
  afterAll(async () => {
    await jobs?.stop();
    await db?.cleanup();
  });

  it('deferred jobs that come due together are found by the watcher and run side by side', async () => {
    const count = 6;
    const started: string[] = [];
    let active = 0;
    let widest = 0;
    const done: string[] = [];
    await jobs.work<{ n: number }>(
      DEFERRED,
      8,
      async (job: Job<{ n: number }>) => {
        started.push(job.id);
        active += 1;
        widest = Math.max(widest, active);
        // Each job waits until all of them have started: they can only finish if they run at the same time.
        const until = Date.now() + 10_000;
        while (started.length < count && Date.now() < until) await sleep(20);
        active -= 1;
        if (started.length < count) throw new Error('jobs did not run side by side');
        done.push(job.id);
      },
      { deferredPollSeconds: 2 },
    );
    for (let n = 0; n < count; n++) await jobs.send(DEFERRED, { n }, { startAfterSeconds: 1 });
    const until = Date.now() + 20_000;
    while (done.length < count && Date.now() < until) await sleep(50);
    expect(done).toHaveLength(count);
    expect(widest).toBe(count);
  });

  it('an idle queue with a deferred poll is polled by its watcher, not by every worker', async () => {
    await jobs.work(IDLE, 10, async () => undefined, { deferredPollSeconds: 2 });
    // Past the first fetch every worker makes when it starts.
    await sleep(1000);
    const since = Date.now();
    await sleep(4500);
    const workers = (
      jobs as unknown as { boss: { getWipData(): { name: string; lastFetchedOn: number | null }[] } }
    ).boss
      .getWipData()
      .filter((w) => w.name === IDLE);
    expect(workers).toHaveLength(10);
    const polled = workers.filter((w) => (w.lastFetchedOn ?? 0) > since);
    expect(polled).toHaveLength(1);
  });
});
