import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type * as schema from './schema.js';

/** Drizzle database or transaction: anything that can run a statement. */
export type Executor = PgDatabase<PgQueryResultHKT, typeof schema>;

/**
 * The one way services reach PostgreSQL, embedded (PGlite) or server (`pg` Pool). Both speak the same SQL;
 * stores use `orm` for statements and `transaction` for units of work.
 */
export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly orm: Executor;
  /** What pg-boss connects through: the PGlite instance (one access path) or the server URL (its own pool). */
  readonly jobBackend: { kind: 'pglite'; client: unknown } | { kind: 'postgres'; url: string };
  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T>;
  /** Throws when the database does not answer `select 1` within `timeoutMs`. */
  ping(timeoutMs: number): Promise<void>;
  /** Subscribes to a NOTIFY channel; returns an unsubscribe function. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /**
   * Applies the drizzle-kit migrations in the folder that the database has not applied yet. `onLocked` is told once
   * this process holds the migration lock and applies (after any wait for another process holding it).
   */
  applyMigrations(migrationsFolder: string, onLocked?: () => void): Promise<void>;
  close(): Promise<void>;
}

/** Runs a statement and returns its rows, whichever driver is underneath. */
export async function queryRows<T>(executor: Executor, statement: SQL): Promise<T[]> {
  const result = (await executor.execute(statement)) as unknown as { rows: T[] };
  return result.rows;
}

/**
 * `queryRows` for a statement whose text never varies (its data goes in parameters), under a fixed `name`: on
 * PostgreSQL a named prepared statement, parsed once per connection and planned once its plan is generic — for a
 * large batch statement that is a millisecond of server CPU per call. PGlite runs it as `queryRows` does.
 */
export async function queryRowsNamed<T>(executor: Executor, name: string, statement: SQL): Promise<T[]> {
  const db = executor as unknown as {
    dialect: { sqlToQuery(statement: SQL): { sql: string; params: unknown[] } };
    session: {
      prepareQuery(
        query: { sql: string; params: unknown[] },
        fields: undefined,
        name: string,
        arrayMode: boolean,
      ): { execute(): Promise<unknown> };
    };
  };
  const result = await db.session
    .prepareQuery(db.dialect.sqlToQuery(statement), undefined, name, false)
    .execute();
  return (result as { rows: T[] }).rows;
}

export async function queryOne<T>(executor: Executor, statement: SQL): Promise<T | undefined> {
  const rows = await queryRows<T>(executor, statement);
  return rows[0];
}

export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A json/jsonb value built in SQL: parsed by `pg`, but text on drivers that leave json unparsed. */
export function jsonColumn(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

/** PostgreSQL's own text of a UTC timestamptz (`to_jsonb`, `::text` with TimeZone UTC): `2026-11-28 04:17:07.123456+00`. */
const pgUtcTimestamp = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00(?::00)?$/;

/**
 * A timestamp as ISO-8601 UTC with milliseconds (`…T04:17:07.123Z`). Timestamps arrive as Date or as PostgreSQL
 * text depending on the driver (inside JSON built in SQL, always text); a UTC text is rewritten directly (the
 * common case, and far cheaper than parsing a Date).
 */
export function toIso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  const text = String(value);
  const utc = pgUtcTimestamp.exec(text);
  if (utc) return `${utc[1]}T${utc[2]}.${(utc[3] ?? '').slice(0, 3).padEnd(3, '0')}Z`;
  return new Date(text).toISOString();
}
