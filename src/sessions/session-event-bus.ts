import type { Database } from '../db/database.js';
import { SESSION_EVENTS_CHANNEL } from './event-store.js';

type Listener = (seq: number) => void;

/**
 * Fans committed-event notifications (PostgreSQL NOTIFY, sent by every replica's appends) out to this replica's
 * subscribers by session. Notifications only say "seq N exists"; subscribers read the events from the database.
 */
export class SessionEventBus {
  private readonly listeners = new Map<string, Set<Listener>>();
  private unlisten: (() => Promise<void>) | undefined;

  constructor(private readonly database: Database) {}

  async start(): Promise<void> {
    this.unlisten = await this.database.listen(SESSION_EVENTS_CHANNEL, (payload) => {
      try {
        const { sessionId, seq } = JSON.parse(payload) as { sessionId: string; seq: number };
        const set = this.listeners.get(sessionId);
        if (set) for (const listener of set) listener(seq);
      } catch {
        // not ours
      }
    });
  }

  subscribe(sessionId: string, listener: Listener): () => void {
    let set = this.listeners.get(sessionId);
    if (!set) {
      set = new Set();
      this.listeners.set(sessionId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(sessionId);
    };
  }

  /** Resolves when `check()` is true, re-checking on each event of the session and every `pollMs`; false on timeout. */
  async waitFor(
    sessionId: string,
    check: () => Promise<boolean>,
    timeoutMs: number,
    pollMs = 1000,
  ): Promise<boolean> {
    if (await check()) return true;
    return new Promise<boolean>((resolve) => {
      let checking = false;
      let again = false;
      let finished = false;
      const finish = (value: boolean) => {
        if (finished) return;
        finished = true;
        unsubscribe();
        clearInterval(poll);
        clearTimeout(timer);
        resolve(value);
      };
      const recheck = async () => {
        if (checking) {
          again = true;
          return;
        }
        checking = true;
        try {
          do {
            again = false;
            if (await check()) return finish(true);
          } while (again && !finished);
        } catch {
          // transient read failure: the next notification or poll tries again
        } finally {
          checking = false;
        }
      };
      const unsubscribe = this.subscribe(sessionId, () => void recheck());
      const poll = setInterval(() => void recheck(), pollMs);
      const timer = setTimeout(() => finish(false), timeoutMs);
    });
  }

  get subscriberCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  async stop(): Promise<void> {
    this.listeners.clear();
    await this.unlisten?.();
  }
}
