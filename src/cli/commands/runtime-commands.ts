import { startMockProvider } from '../../mock-provider/mock-provider.js';
import { readMockScript } from '../../mock-provider/mock-script.js';
import {
  type CliIo,
  EXIT,
  GatewayClient,
  parseFlags,
  processIo,
  remoteOptions,
  reportApiError,
  table,
  UsageError,
} from '../cli-context.js';

export const runtimeUsage = `agw profiles                    role chains and provider states (circuits, cooldowns, modes)
agw dry-run --role R --prompt TEXT [--providers a,b] [--simulate-failures p1,p2@profile]
            [--timeout-ms N] [--live] [--correlation-id ID]   exit 1 when the run failed
agw mock-provider --port N [--host H] [--script file.json]    local OpenAI/Anthropic/Gemini fake`;

interface ProviderStateView {
  provider: string;
  kind: string;
  mode: string;
  model: string;
  circuit: string;
  coolingDown: boolean;
  cooldownUntil: string | null;
  activeProfile: string | null;
  lastFailureCode: string | null;
  reason: string | null;
}

function providerTable(providers: ProviderStateView[]): string {
  return table(
    ['PROVIDER', 'KIND', 'MODE', 'MODEL', 'CIRCUIT', 'COOLING UNTIL', 'PROFILE', 'LAST FAILURE'],
    providers.map((p) => [
      p.provider,
      p.kind,
      p.mode,
      p.model,
      p.circuit,
      p.coolingDown ? p.cooldownUntil : null,
      p.activeProfile,
      p.lastFailureCode ? `${p.lastFailureCode} (${p.reason ?? '-'})` : null,
    ]),
  );
}

/** `agw profiles`: GET /api/admin/ai-runtime/profiles as tables (or raw JSON with --json). */
export async function profilesCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, remoteOptions);
  const client = GatewayClient.from(values, io.env);
  const response = await client.request('GET', '/api/admin/ai-runtime/profiles');
  if (response.status !== 200) return reportApiError(io, response, values.json);
  if (values.json) {
    io.out(JSON.stringify(response.body, null, 2));
    return EXIT.ok;
  }
  const body = response.body as {
    profiles: { role: string; providers: string[] }[];
    providers: ProviderStateView[];
  };
  io.out(
    table(
      ['ROLE', 'CHAIN'],
      body.profiles.map((p) => [p.role, p.providers.join(' → ')]),
    ),
  );
  io.out('');
  io.out(providerTable(body.providers));
  return EXIT.ok;
}

const csvList = (value: string | undefined) =>
  value
    ?.split(',')
    .map((v) => v.trim())
    .filter(Boolean);

/** `agw dry-run`: POST /api/admin/ai-runtime/dry-run; exit 0 when a provider answered, 1 when the run failed. */
export async function dryRunCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, {
    ...remoteOptions,
    role: { type: 'string' },
    prompt: { type: 'string' },
    providers: { type: 'string' },
    'simulate-failures': { type: 'string' },
    'timeout-ms': { type: 'string' },
    'correlation-id': { type: 'string' },
    live: { type: 'boolean', default: false },
  });
  if (!values.role) throw new UsageError('--role is required (author, critic, maker or judge)');
  if (!values.prompt) throw new UsageError('--prompt is required');
  const body: Record<string, unknown> = { role: values.role, prompt: values.prompt };
  if (values['timeout-ms'] !== undefined) {
    if (!/^\d+$/.test(values['timeout-ms'])) throw new UsageError('--timeout-ms must be an integer');
    body.timeoutMs = Number(values['timeout-ms']);
  }
  const providers = csvList(values.providers);
  if (providers?.length) body.providersOverride = providers;
  const simulate = csvList(values['simulate-failures']);
  if (simulate?.length) body.simulateFailures = simulate;
  if (values['correlation-id']) body.correlationId = values['correlation-id'];
  if (values.live) body.live = true;
  const client = GatewayClient.from(values, io.env);
  const timeout = typeof body.timeoutMs === 'number' ? body.timeoutMs + 30_000 : 150_000;
  const response = await client.request('POST', '/api/admin/ai-runtime/dry-run', body, timeout);
  if (response.status !== 200) return reportApiError(io, response, values.json);
  const result = (response.body as { result: DryRunResultView }).result;
  if (values.json) {
    io.out(JSON.stringify(response.body, null, 2));
    return result.failed ? EXIT.failed : EXIT.ok;
  }
  io.out(
    result.failed
      ? `FAILED role ${result.role}: no provider answered (${result.latencyMs} ms)`
      : `OK role ${result.role} → ${result.selectedProvider}@${result.selectedAuthProfile} ` +
          `(${result.selectedModel}, mode ${result.mode}, ${result.latencyMs} ms)`,
  );
  if (result.output) io.out(result.output);
  io.out('');
  io.out(
    table(
      ['PROVIDER', 'PROFILE', 'MODE', 'STATUS', 'MS', 'ERROR', 'HTTP'],
      result.attempts.map((a) => [
        a.provider,
        a.authProfile,
        a.mode,
        a.status,
        a.latencyMs,
        a.errorCode,
        a.httpStatus,
      ]),
    ),
  );
  return result.failed ? EXIT.failed : EXIT.ok;
}

interface DryRunResultView {
  role: string;
  failed: boolean;
  selectedProvider: string | null;
  selectedAuthProfile: string | null;
  selectedModel: string | null;
  mode: string | null;
  output: string | null;
  latencyMs: number;
  attempts: {
    provider: string;
    authProfile: string;
    mode: string;
    status: string;
    latencyMs: number | null;
    errorCode: string | null;
    httpStatus: number | null;
  }[];
}

/**
 * `agw mock-provider --port N [--host H] [--script file.json]`: serves the mock until SIGINT/SIGTERM.
 * Returns the exit code (2 on a usage error).
 */
export async function mockProviderCommand(argv: string[], io: CliIo = processIo): Promise<number> {
  let values: { port?: string; host?: string; script?: string };
  try {
    values = parseFlags(argv, {
      port: { type: 'string' },
      host: { type: 'string' },
      script: { type: 'string' },
    }).values;
    if (values.port !== undefined && !/^\d+$/.test(values.port))
      throw new UsageError('--port must be an integer');
    if (values.port !== undefined && Number(values.port) > 65535)
      throw new UsageError('--port must be at most 65535');
  } catch (error) {
    io.err(`agw mock-provider: ${(error as Error).message}\n\n${runtimeUsage}`);
    return EXIT.usage;
  }
  let script = {};
  if (values.script) {
    try {
      script = readMockScript(values.script);
    } catch (error) {
      io.err(`agw mock-provider: cannot use --script: ${(error as Error).message}`);
      return EXIT.usage;
    }
  }
  const mock = await startMockProvider({
    port: Number(values.port ?? 0),
    host: values.host ?? '127.0.0.1',
    script,
  });
  // Listening for the stop signals before saying it is up: whoever reads that line may signal at once.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  io.out(`mock provider listening on ${mock.url}`);
  io.out(`  OpenAI:    POST ${mock.url}/v1/chat/completions (stream: true for SSE)`);
  io.out(`  Anthropic: POST ${mock.url}/v1/messages`);
  io.out(`  Gemini:    POST ${mock.url}/v1beta/models/<model>:generateContent`);
  io.out(`  generic:   POST ${mock.url}/v1/generic`);
  io.out(`  what it saw (counts, per-request times and outcomes): GET ${mock.url}/__mock/requests`);
  await stopped;
  await mock.close();
  io.out(`mock provider stopped after ${mock.stats.requests} requests`);
  return EXIT.ok;
}
