import { defineConfig } from 'vitest/config';

const shared = {
  globalSetup: ['test/helpers/global-setup.ts'],
  pool: 'forks' as const,
  maxWorkers: 2,
  testTimeout: 30_000,
  hookTimeout: 60_000,
  // expect.poll waits for something another process or the event loop does: 1 s (the default) is short on a loaded
  // 2-core CI machine.
  expect: { poll: { timeout: 10_000 } },
};

/** Chromium is CPU-hungry: the browser tests run after everything else, so timing-bound tests never share the CPU with it. */
const browserTests = ['test/console/console-browser.test.ts'];

export default defineConfig({
  test: {
    // CI asks for a JSON report too (VITEST_JSON_OUT) so it can print one "N passed, N failed" line.
    reporters: process.env.VITEST_JSON_OUT ? ['default', 'json'] : ['default'],
    outputFile: process.env.VITEST_JSON_OUT ? { json: process.env.VITEST_JSON_OUT } : undefined,
    projects: [
      {
        test: {
          ...shared,
          name: 'gateway',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: browserTests,
          sequence: { groupOrder: 0 },
        },
      },
      { test: { ...shared, name: 'browser', include: browserTests, sequence: { groupOrder: 1 } } },
    ],
  },
});
