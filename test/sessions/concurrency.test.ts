import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, queryRows } from '../../src/db/database.js';
import { openPostgresDatabase } from '../../src/db/postgres-database.js';
import { SessionCache } from '../../src/sessions/session-cache.js';
import { SessionService } from '../../src/sessions/session-service.js';
import { createTestDatabase, type TestDatabase, usingPostgres } from '../helpers/test-database.js';

function service(database: Database, trigger = 0) {
  return new SessionService({
    database,
    cache: new SessionCache(100),
    staleMinutes: 15,
    autoCompactTrigger: trigger,
    autoCompactKeepRecent: 5,
  });
}

async function seqs(database: Database, id: string, table: 'session_events' | 'session_event_archive') {
  const rows = await queryRows<{ seq: number }>(
    database.orm,
    sql`select seq from ${sql.raw(table)} where session_id = ${id} order by seq`,
  );
  return rows.map((r) => Number(r.seq));
}

describe('concurrent appends', () => {
  let db: TestDatabase;
  let second: Database | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    // On real PostgreSQL a second, independent pool plays the part of another replica.
    second = db.url ? openPostgresDatabase({ url: db.url, poolMax: 10 }) : undefined;
  });
  afterAll(async () => {
    await second?.close();
    await db?.cleanup();
  });

  it('20 concurrent appends from two pools give seq 1..20 with no gap or duplicate', async () => {
    const a = service(db.database);
    const b = service(second ?? db.database);
    const { session } = await a.create({ channel: 'race' });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? b : a).append(session.id, { fromRole: 'observer', type: 'note', payload: { i } }),
      ),
    );
    expect(results.map((e) => e.seq).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(await seqs(db.database, session.id, 'session_events')).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const status = await a.status(session.id, 'db');
    expect(status.eventCount).toBe(20);
    if (usingPostgres) expect(second).toBeDefined();
  });

  it('compaction racing appends loses nothing: live + archive = every appended event', async () => {
    const a = service(db.database);
    const b = service(second ?? db.database);
    const { session } = await a.create({ channel: 'race-compact' });
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      work.push((i % 2 ? b : a).append(session.id, { fromRole: 'observer', type: 'note', payload: { i } }));
      if (i % 10 === 5) work.push(a.compact(session.id, 3));
    }
    await Promise.all(work);
    const live = await seqs(db.database, session.id, 'session_events');
    const archived = await seqs(db.database, session.id, 'session_event_archive');
    const all = [...live, ...archived].sort((x, y) => x - y);
    const final = await a.status(session.id, 'db');
    // 40 notes + one session_compacted per compaction, every seq exactly once.
    expect(all).toEqual(Array.from({ length: 40 + final.compactCount }, (_, i) => i + 1));
    expect(final.compactCount).toBe(4);
    expect(final.eventCount).toBe(live.length);
    const notes = await queryRows<{ n: number }>(
      db.database.orm,
      sql`select count(*)::int as n from (select type from session_events where session_id = ${session.id}
          union all select type from session_event_archive where session_id = ${session.id}) e where type = 'note'`,
    );
    expect(notes[0]?.n).toBe(40);
  });

  it('concurrent creates of the same external id give one session', async () => {
    const a = service(db.database);
    const b = service(second ?? db.database);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? b : a).create({ channel: 'telegram', externalSessionId: 'dup-1' }),
      ),
    );
    expect(new Set(results.map((r) => r.session.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });
});
