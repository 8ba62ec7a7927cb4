import { join, resolve } from 'node:path';
import type { Config } from '../config/settings.js';
import { lockDataDir } from './data-dir-lock.js';
import type { Database } from './database.js';
import { openPgliteDatabase } from './pglite-database.js';
import { openPostgresDatabase } from './postgres-database.js';

export interface OpenedDatabase {
  database: Database;
  /** Closes the database and releases the data-directory lock. */
  close(): Promise<void>;
}

/** PostgreSQL when `DATABASE_URL` is set; otherwise PGlite under `AGW_DATA_DIR/pgdata`, guarded by a lock file. */
export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'databasePoolMax' | 'dataDir'>,
  onError?: (error: Error) => void,
): Promise<OpenedDatabase> {
  if (config.databaseUrl) {
    const database = openPostgresDatabase({
      url: config.databaseUrl,
      poolMax: config.databasePoolMax,
      onError,
    });
    return { database, close: () => database.close() };
  }
  const dir = resolve(config.dataDir);
  const release = lockDataDir(dir);
  try {
    const database = await openPgliteDatabase({ dataDir: join(dir, 'pgdata') });
    return {
      database,
      async close() {
        try {
          await database.close();
        } finally {
          release();
        }
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}
