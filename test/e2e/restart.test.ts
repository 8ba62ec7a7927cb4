import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createPostgresDatabase, usingPostgres } from '../helpers/test-database.js';

describe('restart keeps the timeline', () => {
  it('events written, gateway stopped, reopened → identical timeline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agw-restart-'));
    const pgdb = usingPostgres ? await createPostgresDatabase() : undefined;
    const env = {
      LOG_LEVEL: 'silent',
      ADMIN_API_TOKEN: 'restart-test-token-0123456789',
      AGW_DATA_DIR: dir,
      ...(pgdb ? { DATABASE_URL: pgdb.url } : {}),
    };
    const headers = { 'x-admin-token': env.ADMIN_API_TOKEN, 'content-type': 'application/json' };
    try {
      const first = await createGateway({ config: loadConfig(env) });
      const created = await first.app.inject({
        method: 'POST',
        url: '/api/admin/agent-gateway/sessions',
        headers,
        payload: JSON.stringify({ channel: 'restart', externalSessionId: 'r1' }),
      });
      const id = created.json().session.id;
      for (let i = 0; i < 5; i++) {
        await first.app.inject({
          method: 'POST',
          url: `/api/admin/agent-gateway/sessions/${id}/events`,
          headers,
          payload: JSON.stringify({ fromRole: 'observer', type: 'note', payload: { i, text: "it's" } }),
        });
      }
      const before = (
        await first.app.inject({ method: 'GET', url: `/api/admin/agent-gateway/sessions/${id}`, headers })
      ).json();
      await first.close();

      const second = await createGateway({ config: loadConfig(env) });
      try {
        const after = (
          await second.app.inject({ method: 'GET', url: `/api/admin/agent-gateway/sessions/${id}`, headers })
        ).json();
        expect(after.events).toEqual(before.events);
        expect(after.session).toEqual(before.session);
        expect(after.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      } finally {
        await second.close();
      }
    } finally {
      await pgdb?.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
