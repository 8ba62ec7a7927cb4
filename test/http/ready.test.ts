import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { Readiness } from '../../src/health/readiness.js';
import { createTestDatabase } from '../helpers/test-database.js';

describe('readiness', () => {
  it('reports db down and redis down within the bound, and caches for the window', async () => {
    const db = await createTestDatabase();
    try {
      let pings = 0;
      let now = 0;
      const failing: Database = {
        ...db.database,
        ping: async () => {
          pings++;
          await new Promise((resolve) => setTimeout(resolve, 5_000));
        },
      };
      const readiness = new Readiness(
        failing,
        { ping: () => Promise.reject(new Error('down')) },
        {
          // The bound also covers the real migrations check: room for a slow database on a loaded machine.
          timeoutMs: 1000,
          cacheMs: 1000,
          now: () => now,
        },
      );
      const [a, b] = await Promise.all([readiness.check(), readiness.check()]);
      expect(a).toEqual({ status: 'degraded', db: 'down', redis: 'down', migrations: 'ok' });
      expect(b).toBe(a);
      expect(pings).toBe(1);
      now = 500;
      await readiness.check();
      expect(pings).toBe(1);
      now = 5000;
      await readiness.check();
      expect(pings).toBe(2);
    } finally {
      await db.cleanup();
    }
  });

  it('Redis down alone: reported, but the replica stays ready (circuits and rate limits fall back to local state)', async () => {
    const db = await createTestDatabase();
    try {
      const readiness = new Readiness(db.database, { ping: () => Promise.reject(new Error('down')) });
      expect(await readiness.check()).toEqual({ status: 'ok', db: 'ok', redis: 'down', migrations: 'ok' });
    } finally {
      await db.cleanup();
    }
  });
});
