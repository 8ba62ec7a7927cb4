import { Writable } from 'node:stream';
import { expect } from 'vitest';
import { createGateway, type Gateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { Clock } from '../../src/runtime/clock.js';
import { run } from './processes.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/** Tokens every test gateway accepts: full access, read-only, operate. */
export const TEST_TOKENS = {
  admin: 'test-admin-token-0123456789abcdef',
  read: 'test-read-token-0123456789abcdef',
  operate: 'test-operate-token-0123456789abcdef',
} as const;

export interface TestGateway {
  gateway: Gateway;
  db: TestDatabase;
  /** Base URL when started with `listen: true`. */
  url: string;
  /** Every log line written so far (JSON strings). */
  logs: string[];
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  env?: Record<string, string>;
  listen?: boolean;
  /** Reuse a database (restart tests); otherwise a fresh one is created and dropped on close. */
  db?: TestDatabase;
  /** Connect to REDIS_URL when the suite has one (opt-in: Redis state is shared by concurrent test files). */
  redis?: boolean;
  /** Virtual time for the AI runtime (cooldown tests over real HTTP). */
  clock?: Clock;
}

/** A gateway on a fresh test database, with logs captured for secret-leak checks. */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const db = options.db ?? (await createTestDatabase());
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    ADMIN_API_TOKEN: TEST_TOKENS.admin,
    ADMIN_API_TOKENS: JSON.stringify([
      { id: 'reader', token: TEST_TOKENS.read, scopes: ['read'] },
      { id: 'operator', token: TEST_TOKENS.operate, scopes: ['operate'] },
    ]),
    ...(options.redis && process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    ...options.env,
  });
  const gateway = await createGateway({
    config,
    database: db.database,
    logStream,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const url = options.listen ? await gateway.listen() : '';
  return {
    gateway,
    db,
    url,
    logs,
    async close() {
      await gateway.close();
      if (!options.db) await db.cleanup();
    },
  };
}

/** Shorthand for `app.inject` with the admin token and JSON. */
export function adminRequest(
  t: TestGateway,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
  token: string = TEST_TOKENS.admin,
) {
  return t.gateway.app.inject({
    method,
    url,
    headers: {
      'x-admin-token': token,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    payload: body === undefined ? undefined : JSON.stringify(body),
  });
}

export { COMPLETED_CYCLE_EVENT_TYPES } from './cycle-events.js';

/**
 * Runs a runbook shell snippet (curl commands, verbatim) against a listening test gateway with the runbook's
 * variables set; returns stdout after asserting the shell succeeded.
 */
export async function runRunbookScript(
  t: TestGateway,
  script: string,
  extraEnv: Record<string, string> = {},
): Promise<string> {
  const result = await run('bash', ['-c', script], {
    PATH: process.env.PATH,
    API_BASE_URL: t.url,
    ADMIN_API_TOKEN: TEST_TOKENS.admin,
    ...extraEnv,
  });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}
