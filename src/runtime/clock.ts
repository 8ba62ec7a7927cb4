import type { CallSignal } from '../providers/provider.js';

/** Time and timers, injected so retry, timeout and circuit tests never sleep for real. */
export interface Clock {
  /** Milliseconds; only differences matter, except for timestamps reported as ISO strings. */
  now(): number;
  /** Resolves after `ms`; rejects with `signal.reason` when the signal aborts first. */
  sleep(ms: number, signal?: CallSignal): Promise<void>;
  /** Runs `fn` after `ms`; returns a cancel function. */
  setTimer(ms: number, fn: () => void): () => void;
}

/** The real clock: wall time for timestamps, Node timers for waits. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        if (signal instanceof AbortSignal) signal.removeEventListener('abort', onAbort);
        else signal?.removeListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      if (signal instanceof AbortSignal) signal.addEventListener('abort', onAbort, { once: true });
      else signal?.once('abort', onAbort);
    });
  },
  setTimer(ms, fn) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};
