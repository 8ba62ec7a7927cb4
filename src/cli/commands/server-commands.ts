import { loadConfig } from '../../config/load-config.js';
import { migrationStatus, runMigrations } from '../../db/migrate.js';
import { openDatabase } from '../../db/open-database.js';
import { reportStartupFailure, start } from '../../main.js';
import { type CliIo, EXIT, parseFlags } from '../cli-context.js';

/** `agw serve`: the same start path as `npm start` (workers included). Resolves only when the server stops. */
export async function serveCommand(argv: string[], io: CliIo): Promise<number> {
  parseFlags(argv, {});
  await start(io.env).catch(reportStartupFailure);
  return new Promise<number>(() => undefined);
}

/** `agw migrate [--check]`: applies pending migrations, or with --check only reports them (exit 1 if pending). */
export async function migrateCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, {
    check: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  const config = loadConfig(io.env);
  const opened = await openDatabase(config);
  try {
    const status = values.check
      ? await migrationStatus(opened.database)
      : await runMigrations(opened.database);
    if (values.json) io.out(JSON.stringify(status));
    else if (values.check) {
      io.out(
        status.pending === 0
          ? `migrations up to date (${status.applied} applied)`
          : `${status.pending} migration(s) pending of ${status.bundled}`,
      );
    } else io.out(`migrations applied; ${status.applied}/${status.bundled} in place`);
    return values.check && status.pending > 0 ? EXIT.failed : EXIT.ok;
  } finally {
    await opened.close();
  }
}
