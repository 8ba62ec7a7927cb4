import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { type Database, type Executor, withTimeout } from './database.js';
import * as schema from './schema.js';

/** Fixed key for the migration advisory lock. */
const MIGRATION_LOCK_KEY = 727_001;

export interface PostgresOptions {
  url: string;
  poolMax: number;
  onError?: (error: Error) => void;
}

/** PostgreSQL server through a `pg` Pool. LISTEN uses one dedicated client that reconnects after failures. */
export function openPostgresDatabase(options: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30000,
    application_name: 'agent-gateway',
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', (error) => options.onError?.(error));
  // The pool listens only to idle clients: one checked out for a transaction whose server goes away between two
  // statements emits 'error' with no listener, an uncaught exception that kills the process. With this listener the
  // transaction's next statement fails instead (a 503), and the pool discards the client when it is released.
  pool.on('connect', (client) => client.on('error', (error) => options.onError?.(error)));
  const orm = drizzle(pool, { schema }) as unknown as Executor;
  const listeners = new Map<string, Set<(payload: string) => void>>();
  let listenClient: pg.Client | undefined;
  let connecting: Promise<void> | undefined;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;

  async function connectListener(): Promise<void> {
    const client = new pg.Client({ connectionString: options.url, application_name: 'agent-gateway-listen' });
    client.on('notification', (message) => {
      const set = listeners.get(message.channel);
      if (set) for (const fn of set) fn(message.payload ?? '');
    });
    client.on('error', (error) => {
      options.onError?.(error);
      if (listenClient === client) listenClient = undefined;
      scheduleReconnect();
    });
    await client.connect();
    for (const channel of listeners.keys()) await client.query(`LISTEN "${channel}"`);
    listenClient = client;
  }

  function scheduleReconnect(): void {
    if (closed || retryTimer || listeners.size === 0) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      ensureListener().catch(() => scheduleReconnect());
    }, 1000);
    retryTimer.unref();
  }

  async function ensureListener(): Promise<void> {
    if (listenClient) return;
    connecting ??= connectListener().finally(() => {
      connecting = undefined;
    });
    await connecting;
  }

  return {
    kind: 'postgres',
    orm,
    jobBackend: { kind: 'postgres', url: options.url },
    transaction: (fn) => (orm as unknown as { transaction: Database['transaction'] }).transaction(fn),
    async ping(timeoutMs) {
      await withTimeout(orm.execute(sql`select 1`), timeoutMs, 'PostgreSQL');
    },
    async listen(channel, onPayload) {
      if (!/^[a-z0-9_]+$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
      let set = listeners.get(channel);
      const isNew = !set;
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
      }
      set.add(onPayload);
      try {
        await ensureListener();
        if (isNew && listenClient) await listenClient.query(`LISTEN "${channel}"`);
      } catch (error) {
        scheduleReconnect();
        throw error;
      }
      return async () => {
        set.delete(onPayload);
        if (set.size === 0) {
          listeners.delete(channel);
          await listenClient?.query(`UNLISTEN "${channel}"`).catch(() => undefined);
        }
      };
    },
    async applyMigrations(migrationsFolder, onLocked) {
      // One dedicated connection holds a session-level advisory lock for the whole run, so replicas starting
      // together apply migrations one at a time and the later ones find nothing pending.
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        try {
          onLocked?.();
          const db = drizzle(client, { schema });
          await migrate(db, { migrationsFolder });
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
        }
      } finally {
        client.release();
      }
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      await listenClient?.end().catch(() => undefined);
      await pool.end();
    },
  };
}
