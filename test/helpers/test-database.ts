import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { inject } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { runMigrations } from '../../src/db/migrate.js';
import { openPgliteDatabase } from '../../src/db/pglite-database.js';
import { openPostgresDatabase } from '../../src/db/postgres-database.js';

export interface TestDatabase {
  database: Database;
  kind: 'pglite' | 'postgres';
  /** Connection URL of the fresh database (real PostgreSQL only), for second pools or child processes. */
  url?: string;
  cleanup(): Promise<void>;
}

/** True when the suite runs against a real PostgreSQL server (`DATABASE_URL` set). */
export const usingPostgres = Boolean(process.env.DATABASE_URL);

let templateBlob: Blob | undefined;

/** A fresh database per caller: a new PostgreSQL database on the server, or PGlite loaded from a migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (usingPostgres) {
    const { url, drop } = await createPostgresDatabase();
    const database = openPostgresDatabase({ url, poolMax: 10 });
    await runMigrations(database);
    return {
      database,
      kind: 'postgres',
      url,
      async cleanup() {
        await database.close();
        await drop();
      },
    };
  }
  templateBlob ??= new Blob([await readFile(inject('pgliteTemplate'))]);
  const database = await openPgliteDatabase({ loadDataDir: templateBlob });
  await runMigrations(database);
  return { database, kind: 'pglite', cleanup: () => database.close() };
}

/**
 * Creates `<prefix>_<random>` on the `base` server (default `DATABASE_URL`); `drop` removes it (forcing off
 * leftover sessions).
 */
export async function createPostgresDatabase(
  base = process.env.DATABASE_URL!,
  prefix = 'agw_test',
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
