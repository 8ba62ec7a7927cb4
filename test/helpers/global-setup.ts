import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { runMigrations } from '../../src/db/migrate.js';
import { dumpPgliteTemplate, openPgliteDatabase } from '../../src/db/pglite-database.js';
import { JobQueue } from '../../src/jobs/job-queue.js';
import { jobQueues } from '../../src/jobs/queues.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}

/**
 * PGlite's initdb takes seconds; build one migrated database once and let every test file load the dump (~1 s).
 * Against real PostgreSQL each test file creates its own database instead.
 */
export default async function setup(project: TestProject): Promise<void> {
  if (process.env.DATABASE_URL) {
    project.provide('pgliteTemplate', '');
    return;
  }
  // Each vitest project (see vitest.config.ts) runs this setup; they share one template.
  const shared = globalThis as { agwPgliteTemplate?: Promise<string> };
  shared.agwPgliteTemplate ??= buildTemplate();
  project.provide('pgliteTemplate', await shared.agwPgliteTemplate);
}

async function buildTemplate(): Promise<string> {
  const dir = join(process.cwd(), '.tmp');
  await mkdir(dir, { recursive: true });
  const database = await openPgliteDatabase();
  await runMigrations(database);
  // pg-boss installs its schema on first start (seconds on PGlite): do it once, in the template.
  const jobs = await JobQueue.start(database, { warn: () => undefined, error: () => undefined }, jobQueues);
  await jobs.stop();
  const dump = await dumpPgliteTemplate(database);
  await database.close();
  const file = join(dir, `pglite-template-${process.pid}.tar`);
  await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  return file;
}
