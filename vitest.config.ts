import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // CI asks for a JSON report too (VITEST_JSON_OUT) so it can print one "N passed, N failed" line.
    reporters: process.env.VITEST_JSON_OUT ? ['default', 'json'] : ['default'],
    outputFile: process.env.VITEST_JSON_OUT ? { json: process.env.VITEST_JSON_OUT } : undefined,
  },
});
