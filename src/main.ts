import cluster from 'node:cluster';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createGateway, type Gateway } from './app.js';
import { runPrimary } from './cluster/primary.js';
import { tellPrimary } from './cluster/worker-link.js';
import { ConfigError, loadConfig } from './config/load-config.js';
import { DataDirLockedError } from './db/data-dir-lock.js';

/**
 * `npm start` / `agw serve`: one gateway in this process, or with AGW_WORKERS > 1 a primary that forks that many
 * (each worker comes back here and starts its gateway).
 */
export async function start(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(env);
  if (config.workers > 1 && cluster.isPrimary) runPrimary(config);
  else await startServer(env);
}

/**
 * Starts the gateway: load config (all problems at once), open the store, migrate, listen, print the banner, and
 * shut down cleanly on SIGTERM/SIGINT (stop accepting, finish in-flight requests, close pools).
 */
export async function startServer(env: NodeJS.ProcessEnv = process.env): Promise<Gateway> {
  const config = loadConfig(env);
  const gateway = await createGateway({
    config,
    // The primary's start deadline does not run while a worker applies migrations (a long backfill is progress).
    ...(cluster.isWorker
      ? {
          migrations: {
            applying: () => tellPrimary({ type: 'agw:migrating' }),
            done: () => tellPrimary({ type: 'agw:migrated' }),
          },
        }
      : {}),
  });
  const address = await gateway.listen();
  // Handlers first, then the banner (or the worker's "listening"): whoever reads it may signal at once, and a
  // process preempted between the two would otherwise die of that signal's default action instead of draining.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    gateway.app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      gateway.app.log.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 5000);
    force.unref();
    gateway.close().then(
      () => process.exit(0),
      (error) => {
        gateway.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // A worker gets Ctrl-C twice (from the terminal's process group and forwarded by the primary): it must keep
  // draining, not die on the second. A single process keeps "Ctrl-C again to force".
  const listen = cluster.isWorker ? process.on.bind(process) : process.once.bind(process);
  listen('SIGTERM', () => stop('SIGTERM'));
  listen('SIGINT', () => stop('SIGINT'));
  const base = address.replace('[::1]', 'localhost');
  const lines = [
    '',
    `Agent Gateway listening on ${base}`,
    `  console:  ${base}/admin${gateway.consoleAvailable ? '' : ' (not built: run npm run build)'}`,
    `  API docs: ${base}/docs`,
    `  store:    ${config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}`}`,
  ];
  if (gateway.generatedAdminToken) {
    lines.push(`  admin token (x-admin-token): ${gateway.generatedAdminToken.token}`);
    lines.push(`    stored in ${gateway.generatedAdminToken.path} (mode 0600)`);
  } else if (config.adminApiToken || config.adminApiTokens.length > 0) {
    lines.push('  admin token: from ADMIN_API_TOKEN / ADMIN_API_TOKENS');
  } else {
    lines.push('  admin API: closed (no ADMIN_API_TOKEN configured)');
  }
  // A worker's banner is printed once, by the primary.
  if (cluster.isWorker) tellPrimary({ type: 'agw:listening', banner: lines.join('\n') });
  else process.stdout.write(`${lines.join('\n')}\n\n`);

  return gateway;
}

/** Prints startup failures a person can act on, without a stack for the expected ones. */
export function reportStartupFailure(error: unknown): never {
  if (error instanceof ConfigError || error instanceof DataDirLockedError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`Failed to start: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) start().catch(reportStartupFailure);
