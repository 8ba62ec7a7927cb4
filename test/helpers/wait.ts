/** Polls `check` every `intervalMs` until it returns a value (or gives up after `timeoutMs`). */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Waits until `check` holds, polling every `intervalMs` (short by default: some states it waits for, like a
 * reconnecting subscription, last only tens of milliseconds); the error names `what`.
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5000,
  intervalMs = 10,
): Promise<void> {
  await eventually(async () => ((await check()) ? true : undefined), timeoutMs, intervalMs).catch(() => {
    throw new Error(`timed out waiting for ${what}`);
  });
}
