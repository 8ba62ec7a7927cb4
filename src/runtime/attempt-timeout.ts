import { AttemptSignal, type CallSignal, ProviderFailure } from '../providers/provider.js';
import type { Clock } from './clock.js';

/**
 * Runs one call under an abortable timeout: the timer aborts the socket via the signal, and the race returns at
 * the timeout even if an adapter ignored its signal. Hot path: no per-call Error unless it actually times out.
 */
export function withAttemptTimeout<T>(
  clock: Clock,
  timeoutMs: number,
  callerSignal: CallSignal | undefined,
  call: (signal: AttemptSignal) => Promise<T>,
): Promise<T> {
  const controller = new AttemptSignal();
  return new Promise<T>((resolve, reject) => {
    const cancel = clock.setTimer(timeoutMs, () => {
      const timeout = new ProviderFailure({
        code: 'AI_PROVIDER_TIMEOUT',
        retryable: false,
        message: `no answer within ${timeoutMs} ms; the request was aborted`,
      });
      controller.abort(timeout);
      reject(timeout);
    });
    const onCallerAbort = callerSignal
      ? () => {
          controller.abort(callerSignal.reason);
          reject(
            new ProviderFailure({ code: 'AI_PROVIDER_ERROR', retryable: false, message: 'run cancelled' }),
          );
        }
      : undefined;
    if (onCallerAbort) listen(callerSignal, onCallerAbort);
    call(controller).then(
      (value) => {
        cancel();
        if (onCallerAbort) unlisten(callerSignal, onCallerAbort);
        resolve(value);
      },
      (error: unknown) => {
        cancel();
        if (onCallerAbort) unlisten(callerSignal, onCallerAbort);
        reject(error);
      },
    );
  });
}

function listen(signal: CallSignal | undefined, fn: () => void): void {
  if (signal instanceof AttemptSignal) signal.once('abort', fn);
  else signal?.addEventListener('abort', fn, { once: true });
}

function unlisten(signal: CallSignal | undefined, fn: () => void): void {
  if (signal instanceof AttemptSignal) signal.removeListener('abort', fn);
  else signal?.removeEventListener('abort', fn);
}
