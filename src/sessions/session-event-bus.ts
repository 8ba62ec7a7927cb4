import type { Database } from '../db/database.js';
import { SESSION_EVENTS_CHANNEL } from './event-store.js';

type Listener = (seq: number) => void;

/** How long the channel stays LISTENed after the last subscriber left (short waits come and go). */
const IDLE_UNLISTEN_MS = 60_000;

/**
 * Fans committed-event notifications (PostgreSQL NOTIFY, sent by every replica's appends) out to this replica's
 * subscribers by session. Notifications only say "seq N exists"; subscribers read the events from the database.
 *
 * The channel is LISTENed only while this replica has subscribers (live streams, sync orchestrate waits), and
 * for a minute after the last one left: a replica that only ingests does not receive a notification for every
 * event it writes. When listening (re)starts, every subscriber is woken once, since whatever committed before
 * LISTEN took effect was announced to no one; subscribers read everything after what they have, so nothing is
 * missed.
 */
export class SessionEventBus {
  private readonly listeners = new Map<string, Set<Listener>>();
  private unlisten: (() => Promise<void>) | undefined;
  /** Whether the channel should be listened to, and the queue of LISTEN / UNLISTEN changes. */
  private wanted = false;
  private changes: Promise<void> = Promise.resolve();
  private idleTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly database: Database,
    private readonly options: { idleUnlistenMs?: number } = {},
  ) {}

  /** One handler for the life of the bus (registering it again is a no-op in the database layer). */
  private readonly onPayload = (payload: string) => {
    try {
      const { sessionId, seq } = JSON.parse(payload) as { sessionId: string; seq: number };
      const set = this.listeners.get(sessionId);
      if (set) for (const listener of set) listener(seq);
    } catch {
      // not ours
    }
  };

  /** Nothing to do until the first subscriber: listening starts with it. */
  async start(): Promise<void> {
    this.stopped = false;
  }

  /** Whether the channel is LISTENed now (observability and tests). */
  get isListening(): boolean {
    return this.unlisten !== undefined;
  }

  subscribe(sessionId: string, listener: Listener): () => void {
    let set = this.listeners.get(sessionId);
    if (!set) {
      set = new Set();
      this.listeners.set(sessionId, set);
    }
    set.add(listener);
    this.want(true);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(sessionId);
      if (this.listeners.size === 0) this.want(false);
    };
  }

  private want(listen: boolean): void {
    if (this.stopped) return;
    if (listen) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
      this.wanted = true;
      this.applyChanges();
      return;
    }
    if (this.idleTimer) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.listeners.size > 0) return;
      this.wanted = false;
      this.applyChanges();
    }, this.options.idleUnlistenMs ?? IDLE_UNLISTEN_MS);
    this.idleTimer.unref();
  }

  /** Brings LISTEN in line with `wanted`, one change at a time. */
  private applyChanges(): void {
    this.changes = this.changes.then(async () => {
      if (this.wanted && !this.unlisten) {
        try {
          this.unlisten = await this.database.listen(SESSION_EVENTS_CHANNEL, this.onPayload);
          for (const set of [...this.listeners.values()]) for (const listener of [...set]) listener(0);
        } catch {
          // The database is unreachable: try again shortly while someone still waits.
          if (!this.retryTimer && !this.stopped) {
            this.retryTimer = setTimeout(() => {
              this.retryTimer = undefined;
              if (this.wanted) this.applyChanges();
            }, 1000);
            this.retryTimer.unref();
          }
        }
      } else if (!this.wanted && this.unlisten) {
        const unlisten = this.unlisten;
        this.unlisten = undefined;
        await unlisten().catch(() => undefined);
      }
    });
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
    clearTimeout(this.idleTimer);
    clearTimeout(this.retryTimer);
    this.idleTimer = undefined;
    this.retryTimer = undefined;
    this.wanted = false;
    this.applyChanges();
    this.stopped = true;
    await this.changes;
  }
}
