import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { type Database, type Executor, withTimeout } from './database.js';
import * as schema from './schema.js';

export interface PgliteOptions {
  /** File-backed data directory; omitted → in memory. */
  dataDir?: string;
  /** An initialised data directory dump (tests start from a migrated template in ~1 s instead of initdb). */
  loadDataDir?: Blob | File;
}

/**
 * Embedded PostgreSQL (PGlite, single connection). Every statement goes through Drizzle, whose transactions use
 * PGlite's own transaction API, so no query can interleave with an open transaction.
 */
export async function openPgliteDatabase(options: PgliteOptions = {}): Promise<Database> {
  const client = new PGlite(options.dataDir, options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
  await client.waitReady;
  const orm = drizzle(client, { schema }) as unknown as Executor;
  return {
    kind: 'pglite',
    orm,
    jobBackend: { kind: 'pglite', client },
    transaction: (fn) => (orm as unknown as { transaction: Database['transaction'] }).transaction(fn),
    async ping(timeoutMs) {
      await withTimeout(orm.execute(sql`select 1`), timeoutMs, 'PGlite');
    },
    async listen(channel, onPayload) {
      const unsubscribe = await client.listen(channel, onPayload);
      return unsubscribe;
    },
    async applyMigrations(migrationsFolder, onLocked) {
      // One process per data directory (the lock file): nothing to wait for.
      onLocked?.();
      await migrate(orm as never, { migrationsFolder });
    },
    async close() {
      await client.close();
    },
  };
}

/** Dumps an in-memory PGlite database for use as a template (tests). */
export async function dumpPgliteTemplate(database: Database): Promise<Blob> {
  const client = (database.orm as unknown as { $client: PGlite }).$client;
  return client.dumpDataDir('none');
}
