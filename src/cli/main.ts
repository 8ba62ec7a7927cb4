#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config/load-config.js';
import { type CliIo, EXIT, processIo, UnreachableError, UsageError } from './cli-context.js';
import { draftsCommand, draftsUsage, orchestrateCommand } from './commands/draft-commands.js';
import { healthCommand } from './commands/health-command.js';
import {
  dryRunCommand,
  mockProviderCommand,
  profilesCommand,
  runtimeUsage,
} from './commands/runtime-commands.js';
import { migrateCommand, serveCommand } from './commands/server-commands.js';
import { sessionsCommand, sessionsUsage } from './commands/session-commands.js';
import { adaptersCommand, telemetryCommand, telemetryUsage } from './commands/telemetry-commands.js';
import { gateCommand } from './gate/gate-command.js';
import { gateUsage } from './gate/gate-options.js';

type Command = (argv: string[], io: CliIo) => Promise<number>;

const commands: Record<string, Command> = {
  serve: serveCommand,
  migrate: migrateCommand,
  health: healthCommand,
  sessions: sessionsCommand,
  profiles: profilesCommand,
  'dry-run': dryRunCommand,
  'mock-provider': mockProviderCommand,
  drafts: draftsCommand,
  orchestrate: orchestrateCommand,
  telemetry: telemetryCommand,
  adapters: adaptersCommand,
  gate: gateCommand,
};

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

export const usage = `agw — Agent Gateway command line

Server:
  agw serve                       start the gateway (same as npm start; reads the environment)
  agw migrate [--check]           apply pending database migrations (--check: report only, exit 1 if pending)

Operations (talk to a running gateway):
  agw health                      /health + /ready + runtime summary
${indent(sessionsUsage)}
${indent(runtimeUsage)}
${indent(draftsUsage)}
${indent(telemetryUsage)}

Release:
${indent(gateUsage)}

Common flags: --api-base-url URL (env API_BASE_URL, default http://127.0.0.1:8080)
              --admin-token TOKEN (env ADMIN_API_TOKEN, else <AGW_DATA_DIR>/admin-token)
              --json  print the API's JSON instead of a table
Exit codes:   0 ok · 1 failed (API error, unhealthy, failed check) · 2 usage error · 3 gateway unreachable`;

/** Runs one command line and returns its exit code. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = commands[name];
  if (!command) {
    io.err(`unknown command: ${name}\n\n${usage}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(usage);
    return EXIT.ok;
  }
  try {
    return await command(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`agw ${name}: ${error.message}\n\n${usage}`);
      return EXIT.usage;
    }
    if (error instanceof UnreachableError) {
      io.err(error.message);
      return EXIT.unreachable;
    }
    if (error instanceof ConfigError) {
      io.err(error.message);
      return EXIT.usage;
    }
    io.err(`agw ${name} failed: ${(error as Error).message}`);
    return EXIT.failed;
  }
}

function isEntryPoint(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
