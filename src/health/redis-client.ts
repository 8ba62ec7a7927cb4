import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { withTimeout } from '../db/database.js';

/**
 * Shared Redis connection (circuits, rate limits). Failures are logged at most every 10 s and never crash.
 * While it is disconnected, commands fail at once instead of queueing (and a connected but silent Redis fails them
 * after `commandTimeout`), so callers fall back to their local state without making requests wait for Redis.
 */
export function createRedisClient(
  url: string,
  logger: Pick<FastifyBaseLogger, 'warn'>,
): Redis & {
  pingWithin(timeoutMs: number): Promise<void>;
  /** Resolves once connected, or after `timeoutMs` (a Redis that is down at startup only degrades the gateway). */
  connectedWithin(timeoutMs: number): Promise<boolean>;
} {
  const client = new Redis(url, {
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: 1000,
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
    connectedWithin(timeoutMs: number): Promise<boolean> {
      if (client.status === 'ready') return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const done = (ready: boolean) => {
          clearTimeout(timer);
          client.off('ready', onReady);
          resolve(ready);
        };
        const onReady = () => done(true);
        const timer = setTimeout(() => done(false), timeoutMs);
        client.on('ready', onReady);
      });
    },
  });
}
