import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/sessions/session-cache.js';
import { SessionEventBus } from '../../src/sessions/session-event-bus.js';
import { SessionService } from '../../src/sessions/session-service.js';
import { eventually } from '../helpers/ingest-client.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

describe('session event bus', () => {
  let db: TestDatabase;
  let sessions: SessionService;
  beforeAll(async () => {
    db = await createTestDatabase();
    sessions = new SessionService({
      database: db.database,
      cache: new SessionCache(100),
      staleMinutes: 15,
      autoCompactTrigger: 0,
      autoCompactKeepRecent: 5,
    });
  });
  afterAll(async () => db?.cleanup());

  it('listens only while it has subscribers (plus the idle delay), and wakes each new subscriber once it listens', async () => {
    const bus = new SessionEventBus(db.database, { idleUnlistenMs: 200 });
    await bus.start();
    const { session } = await sessions.create({ channel: 'bus', externalSessionId: 'one' });
    expect(bus.isListening).toBe(false);

    const seen: number[] = [];
    const unsubscribe = bus.subscribe(session.id, (seq) => seen.push(seq));
    // Once LISTEN is in effect the subscriber is woken (seq 0: "read what you may have missed").
    await eventually(async () => (seen.includes(0) ? true : undefined), 10_000);
    expect(bus.isListening).toBe(true);
    await sessions.append(session.id, { fromRole: 'observer', type: 'note', payload: { n: 1 } });
    await eventually(async () => (seen.includes(1) ? true : undefined), 10_000);

    // The last subscriber leaves: still listening during the idle delay, then not.
    unsubscribe();
    expect(bus.isListening).toBe(true);
    await eventually(async () => (bus.isListening ? undefined : true), 10_000);
    const before = seen.length;
    await sessions.append(session.id, { fromRole: 'observer', type: 'note', payload: { n: 2 } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toHaveLength(before);

    // A subscriber arriving within the idle delay keeps the channel (no UNLISTEN/LISTEN churn).
    const again: number[] = [];
    const off = bus.subscribe(session.id, (seq) => again.push(seq));
    await eventually(async () => (bus.isListening ? true : undefined), 10_000);
    off();
    const back = bus.subscribe(session.id, (seq) => again.push(seq));
    expect(bus.isListening).toBe(true);
    await sessions.append(session.id, { fromRole: 'observer', type: 'note', payload: { n: 3 } });
    await eventually(async () => (again.includes(3) ? true : undefined), 10_000);
    back();
    await bus.stop();
    expect(bus.isListening).toBe(false);
  });
});
