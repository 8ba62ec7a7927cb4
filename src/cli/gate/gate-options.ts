import { patterns } from '../../sessions/session-rules.js';
import { parseFlags, UsageError } from '../cli-context.js';

export const externalChannels = ['telegram', 'slack', 'discord'] as const;
export type ExternalChannel = (typeof externalChannels)[number];

export const gateUsage = `agw gate [--api-base-url URL] [--admin-token T] [--webhook-secret S] [--strict] [--json]
         [--skip-runtime-probes] [--skip-ingest-probe] [--required-external-channels telegram,slack,discord|all]
         [--runtime-draft-id UUID] [--runtime-channel C] [--http-timeout-ms 10000] [--failure-detail-max-items 10]
         [--require-live-providers] [--out-dir artifacts/release] [--history FILE] [--probe-connector-id launch_probe]
         [--telemetry-wait-ms 15000]
            release launch gate: probes the deployment, writes the summary and channel traces to --out-dir;
            env: RELEASE_API_BASE_URL (else API_BASE_URL), RELEASE_ADMIN_API_TOKEN (else ADMIN_API_TOKEN),
            RELEASE_AGENT_GATEWAY_WEBHOOK_SECRET, RELEASE_REQUIRED_EXTERNAL_CHANNELS, RELEASE_GATE_HISTORY_FILE;
            exit 0 pass · 1 fail (or "pause rollout" hard stop) · 2 usage`;

/** Everything `agw gate` runs with, validated. The secrets never leave this object except as request headers. */
export interface GateOptions {
  apiBaseUrl: string;
  adminToken: string;
  webhookSecret: string | null;
  strict: boolean;
  json: boolean;
  skipRuntimeProbes: boolean;
  skipIngestProbe: boolean;
  requiredExternalChannels: ExternalChannel[];
  runtimeDraftId: string | null;
  runtimeChannel: string;
  httpTimeoutMs: number;
  failureDetailMaxItems: number;
  requireLiveProviders: boolean;
  outDir: string;
  historyFile: string | null;
  probeConnectorId: string;
  telemetryWaitMs: number;
}

const flagOptions = {
  'api-base-url': { type: 'string' },
  'admin-token': { type: 'string' },
  'webhook-secret': { type: 'string' },
  strict: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  'skip-runtime-probes': { type: 'boolean', default: false },
  'skip-ingest-probe': { type: 'boolean', default: false },
  'required-external-channels': { type: 'string' },
  'runtime-draft-id': { type: 'string' },
  'runtime-channel': { type: 'string' },
  'http-timeout-ms': { type: 'string' },
  'failure-detail-max-items': { type: 'string' },
  'require-live-providers': { type: 'boolean', default: false },
  'out-dir': { type: 'string' },
  history: { type: 'string' },
  'probe-connector-id': { type: 'string' },
  'telemetry-wait-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** An environment value, treating an empty string as unset. */
function envValue(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

function integer(
  value: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be an integer, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** `telegram,slack` / `all` / `` → the list; anything else is a usage error naming the bad entry. */
export function parseRequiredChannels(value: string | undefined): ExternalChannel[] {
  if (value === undefined) return [];
  const entries = value
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean);
  if (entries.includes('all')) {
    if (entries.length > 1) throw new UsageError('--required-external-channels: "all" cannot be combined');
    return [...externalChannels];
  }
  const unknown = entries.filter((e) => !(externalChannels as readonly string[]).includes(e));
  if (unknown.length > 0)
    throw new UsageError(
      `--required-external-channels: unknown channel(s) ${unknown.join(', ')} (telegram, slack, discord or all)`,
    );
  return [...new Set(entries)] as ExternalChannel[];
}

/** Parses flags (both `--flag value` and `--flag=value`) with their env fallbacks; bad input throws UsageError. */
export function parseGateOptions(argv: string[], env: NodeJS.ProcessEnv): GateOptions {
  const { values } = parseFlags(argv, flagOptions);
  const apiBaseUrl = (
    values['api-base-url'] ?? envValue(env, 'RELEASE_API_BASE_URL', 'API_BASE_URL')
  )?.replace(/\/+$/, '');
  if (!apiBaseUrl) throw new UsageError('--api-base-url (or RELEASE_API_BASE_URL) is required');
  let url: URL;
  try {
    url = new URL(apiBaseUrl);
  } catch {
    throw new UsageError('--api-base-url is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError('--api-base-url must be an http(s) URL');
  if (url.username || url.password)
    throw new UsageError('--api-base-url must not carry credentials (use --admin-token)');
  const adminToken = values['admin-token'] ?? envValue(env, 'RELEASE_ADMIN_API_TOKEN', 'ADMIN_API_TOKEN');
  if (!adminToken) throw new UsageError('--admin-token (or RELEASE_ADMIN_API_TOKEN) is required');
  const runtimeDraftId = values['runtime-draft-id'] ?? null;
  if (
    runtimeDraftId !== null &&
    !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(runtimeDraftId)
  )
    throw new UsageError('--runtime-draft-id must be a draft uuid');
  const runtimeChannel = (values['runtime-channel'] ?? 'release_runtime_probe').trim().toLowerCase();
  if (!patterns.channel.test(runtimeChannel))
    throw new UsageError(`--runtime-channel must match ${patterns.channel}`);
  const probeConnectorId = (values['probe-connector-id'] ?? 'launch_probe').trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(probeConnectorId))
    throw new UsageError('--probe-connector-id is not a valid connector id');
  return {
    apiBaseUrl,
    adminToken,
    webhookSecret: values['webhook-secret'] ?? envValue(env, 'RELEASE_AGENT_GATEWAY_WEBHOOK_SECRET') ?? null,
    strict: values.strict,
    json: values.json,
    skipRuntimeProbes: values['skip-runtime-probes'],
    skipIngestProbe: values['skip-ingest-probe'],
    requiredExternalChannels: parseRequiredChannels(
      values['required-external-channels'] ?? envValue(env, 'RELEASE_REQUIRED_EXTERNAL_CHANNELS'),
    ),
    runtimeDraftId: runtimeDraftId?.toLowerCase() ?? null,
    runtimeChannel,
    httpTimeoutMs: integer(values['http-timeout-ms'], 'http-timeout-ms', 10_000, 100, 600_000),
    failureDetailMaxItems: integer(
      values['failure-detail-max-items'],
      'failure-detail-max-items',
      10,
      1,
      1000,
    ),
    requireLiveProviders: values['require-live-providers'],
    outDir: values['out-dir'] ?? 'artifacts/release',
    historyFile: values.history ?? envValue(env, 'RELEASE_GATE_HISTORY_FILE') ?? null,
    probeConnectorId,
    telemetryWaitMs: integer(values['telemetry-wait-ms'], 'telemetry-wait-ms', 15_000, 0, 300_000),
  };
}

/** The options as recorded in the summary: what was asked, never the secrets. */
export function publicConfig(o: GateOptions): Record<string, unknown> {
  return {
    apiBaseUrl: o.apiBaseUrl,
    adminTokenConfigured: true,
    webhookSecretConfigured: o.webhookSecret !== null,
    strict: o.strict,
    skipRuntimeProbes: o.skipRuntimeProbes,
    skipIngestProbe: o.skipIngestProbe,
    requiredExternalChannels: o.requiredExternalChannels,
    runtimeDraftId: o.runtimeDraftId,
    runtimeChannel: o.runtimeChannel,
    httpTimeoutMs: o.httpTimeoutMs,
    failureDetailMaxItems: o.failureDetailMaxItems,
    requireLiveProviders: o.requireLiveProviders,
    outDir: o.outDir,
    historyFile: o.historyFile,
    probeConnectorId: o.probeConnectorId,
    telemetryWaitMs: o.telemetryWaitMs,
  };
}
