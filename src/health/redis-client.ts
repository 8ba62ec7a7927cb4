import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { withTimeout } from '../db/database.js';

/** Shared Redis connection (circuits, rate limits). Failures are logged at most every 10 s and never crash. */
export function createRedisClient(
  url: string,
  logger: Pick<FastifyBaseLogger, 'warn'>,
): Redis & {
  pingWithin(timeoutMs: number): Promise<void>;
} {
  const client = new Redis(url, {
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let lastWarn = 0;
  client.on('error', (error: Error) => {
    const now = Date.now();
    if (now - lastWarn > 10_000) {
      lastWarn = now;
      logger.warn({ err: { message: error.message } }, 'redis connection problem');
    }
  });
  return Object.assign(client, {
    async pingWithin(timeoutMs: number) {
      await withTimeout(client.ping(), timeoutMs, 'Redis');
    },
  });
}
