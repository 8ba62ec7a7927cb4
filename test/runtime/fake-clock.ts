import type { Clock } from '../../src/runtime/clock.js';

/**
 * Virtual time for runtime tests: `sleep` advances the clock at once (and records the wait), timers fire only when
 * time is advanced, so retry, backoff, timeout and cooldown tests never wait for real.
 */
export class FakeClock implements Clock {
  private t = Date.parse('2026-01-01T00:00:00Z');
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  readonly sleeps: number[] = [];

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    // A sleeper that is aborted (its attempt timed out) wakes at the abort, not at the end of its sleep.
    this.advance(ms, () => signal?.aborted === true);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return Promise.resolve();
  }

  setTimer(ms: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return () => {
      this.timers = this.timers.filter((timer) => timer.id !== id);
    };
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number, stop: () => boolean = () => false): void {
    const target = this.t + ms;
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer.id !== due.id);
      this.t = Math.max(this.t, due.at);
      due.fn();
      if (stop()) return;
    }
    this.t = target;
  }

  get pendingTimers(): number {
    return this.timers.length;
  }
}
