import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryOne } from '../../src/db/database.js';
import { openPostgresDatabase } from '../../src/db/postgres-database.js';
import { isDatabaseUnavailable } from '../../src/http/error-handler.js';
import { createTestDatabase, type TestDatabase, usingPostgres } from '../helpers/test-database.js';
import { until } from '../helpers/wait.js';

// PGlite has no connections to lose; on a server this is what a PostgreSQL restart does to a transaction.
describe.runIf(usingPostgres)('PostgreSQL connection lost mid-transaction', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.cleanup();
  });

  it('fails the transaction as "database unavailable" without crashing the process, and the pool recovers', async () => {
    const errors: Error[] = [];
    const database = openPostgresDatabase({ url: db.url!, poolMax: 2, onError: (e) => errors.push(e) });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const outcome = database.transaction(async (tx) => {
        const me = await queryOne<{ pid: number }>(tx, sql`select pg_backend_pid() as pid`);
        // The server ends this connection between two statements, as a fast shutdown does.
        // (waiting for the backend to be gone, then for the client to read its goodbye while idle).
        await db.database.orm.execute(sql`select pg_terminate_backend(${me!.pid}, 10000)`);
        await until(() => errors.length > 0, 'the idle client to see its connection end', 10_000);
        await tx.execute(sql`select 1`);
      });
      const error = await outcome.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeDefined();
      expect(isDatabaseUnavailable(error)).toBe(true);
      expect(uncaught).toEqual([]);
      expect(errors.map((e) => e.message).join()).toMatch(/terminating connection/);
      // The broken client was discarded: the next statements get healthy connections.
      for (let i = 0; i < 3; i++)
        expect(await queryOne<{ n: number }>(database.orm, sql`select 1 as n`)).toEqual({ n: 1 });
    } finally {
      process.off('uncaughtException', onUncaught);
      await database.close();
    }
  });
});
