import { randomBytes } from 'node:crypto';
import { type CliIo, EXIT } from '../cli-context.js';
import { type ChannelTarget, type ChannelTrace, channelTargets, probeChannel } from './channel-probes.js';
import { type CheckResult, type GateContext, publicCheck, runCheck, SkipCheck } from './gate-check.js';
import { hardStop, readHistory, staleBaseline, writeHistory } from './gate-history.js';
import { GateHttp } from './gate-http.js';
import { type ExternalChannel, parseGateOptions, publicConfig } from './gate-options.js';
import { type GateSummary, printReport, writeArtifacts } from './gate-report.js';
import {
  adaptersCheck,
  ingestProbeCheck,
  type ProfileSnapshot,
  sessionsLookupCheck,
  telemetryCheck,
} from './platform-checks.js';
import {
  dryRunCheck,
  healthCheck,
  orchestrationCheck,
  readyCheck,
  runtimeHealthCheck,
} from './runtime-checks.js';

function newRunId(now: Date): string {
  return `rg-${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}-${randomBytes(3).toString('hex')}`;
}

/** `agw gate`: every check of SPEC §11, never stopping at the first failure; artifacts always written. */
export async function gateCommand(argv: string[], io: CliIo): Promise<number> {
  const options = parseGateOptions(argv, io.env);
  const history = options.historyFile ? readHistory(options.historyFile) : [];
  const started = new Date();
  const runId = newRunId(started);
  const http = new GateHttp({
    baseUrl: options.apiBaseUrl,
    adminToken: options.adminToken,
    timeoutMs: options.httpTimeoutMs,
    requestIdPrefix: runId,
  });
  const ctx: GateContext = {
    http,
    options,
    runId,
    limit: (items) => items.slice(0, options.failureDetailMaxItems),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    staleBaseline: staleBaseline(history),
  };

  let profiles: ProfileSnapshot | null = null;
  const checks: Record<string, CheckResult> = {};
  const record = async (name: string, body: Parameters<typeof runCheck>[1]) => {
    checks[name] = publicCheck(await runCheck(ctx, body));
  };
  await record('health', () => healthCheck(ctx));
  await record('ready', () => readyCheck(ctx));
  await record('runtimeHealth', () => runtimeHealthCheck(ctx));
  await record('dryRun', () => dryRunCheck(ctx));
  await record('orchestration', () => orchestrationCheck(ctx));
  await record('sessionsLookup', () => sessionsLookupCheck(ctx));
  await record('telemetry', () => telemetryCheck(ctx));
  await record('adapters', () =>
    adaptersCheck(ctx, (p) => {
      profiles = p;
    }),
  );
  await record('ingestProbe', () => ingestProbeCheck(ctx, profiles));

  const traces: ChannelTrace[] = [];
  const fallback = await runCheck(ctx, async () => {
    const required = options.requiredExternalChannels;
    const cannotProbe = options.skipIngestProbe
      ? '--skip-ingest-probe'
      : !options.webhookSecret
        ? 'no webhook secret (--webhook-secret / RELEASE_AGENT_GATEWAY_WEBHOOK_SECRET)'
        : null;
    if (cannotProbe && required.length > 0)
      return {
        details: channelDetails([], required, false),
        errors: [`required channels ${required.join(', ')} cannot be probed: ${cannotProbe}`],
      };
    if (cannotProbe)
      throw new SkipCheck(
        options.skipIngestProbe ? 'flag' : 'unavailable',
        cannotProbe,
        channelDetails([], [], true),
      );
    const snapshot = profiles as ProfileSnapshot | null;
    // Without the profile list (admin API failing), still probe each required channel through its conventional
    // connector, so the broken admin path is classified instead of hiding the channels.
    const targets = snapshot ? channelTargets(snapshot) : conventionalTargets(required);
    const configured = snapshot ? [...new Set(targets.map((t) => t.channel))] : [];
    if (targets.length === 0 && required.length === 0)
      throw new SkipCheck(
        'nothing_to_probe',
        snapshot
          ? 'no connector profile for telegram, slack or discord'
          : 'connector profiles unknown and no channel required',
        channelDetails([], [], true),
      );
    for (const target of targets) traces.push(await probeChannel(ctx, target, snapshot?.enforced ?? false));
    const missing = snapshot ? required.filter((c) => !configured.includes(c)) : [];
    const failedRequired = required.filter((c) => traces.some((t) => t.channel === c && !t.pass));
    const requiredPass = snapshot !== null && missing.length === 0 && failedRequired.length === 0;
    const errors = [
      ...(snapshot
        ? []
        : [
            'connector profiles unknown (the adapters snapshot failed): probed required channels by convention',
          ]),
      ...missing.map((c) => `required channel ${c} has no connector profile`),
      ...traces
        .filter((t) => !t.pass && (options.strict || required.includes(t.channel)))
        .map((t) => `${t.channel}/${t.connectorId}: ${t.failureMode}`),
    ];
    return { details: channelDetails(configured, required, requiredPass), errors };
  });
  const failedChannels = traces
    .filter((t) => !t.pass)
    .map((t) => ({ channel: t.channel, connectorId: t.connectorId, failureMode: t.failureMode! }));
  const requiredFailedChannels = [
    ...new Set(
      failedChannels
        .filter((f) => options.requiredExternalChannels.includes(f.channel))
        .map((f) => f.channel),
    ),
  ];
  const { details: fallbackDetails, ...fallbackRest } = publicCheck(fallback);
  checks.ingestExternalChannelFallback = {
    ...fallbackRest,
    details: {},
    ...channelDetails([], options.requiredExternalChannels, false),
    ...fallbackDetails,
  } as CheckResult;
  const counted = options.strict
    ? failedChannels
    : failedChannels.filter((f) => requiredFailedChannels.includes(f.channel));
  checks.ingestExternalChannelFailureModes = {
    pass: counted.length === 0,
    skipped: fallback.skipped,
    skipReason: fallback.skipReason,
    startedAtUtc: fallback.startedAtUtc,
    durationMs: fallback.durationMs,
    details: {},
    errors: ctx.limit(
      counted.map(
        (f) => `${options.strict ? '' : 'required '}${f.channel}/${f.connectorId}: ${f.failureMode}`,
      ),
    ),
    failedChannels,
    requiredFailedChannels,
  } as CheckResult;

  const pass = Object.values(checks).every((c) => c.pass);
  const generatedAtUtc = new Date().toISOString();
  const stale = checks.sessionsLookup?.details.staleActiveSessions;
  const entry = {
    runId,
    generatedAtUtc,
    strict: options.strict,
    pass,
    requiredFailedChannels,
    staleActiveSessions: typeof stale === 'number' ? stale : null,
  };
  const stop = hardStop(history, entry);
  const summary: GateSummary = {
    pass: pass && !stop.triggered,
    status: stop.triggered
      ? 'pause_rollout'
      : !pass
        ? 'fail'
        : failedChannels.length > 0
          ? 'pass_with_warnings'
          : 'pass',
    generatedAtUtc,
    startedAtUtc: started.toISOString(),
    durationMs: Date.now() - started.getTime(),
    correlation: correlation(runId, io.env, checks.health?.details.version),
    config: publicConfig(options),
    checks,
    hardStop: stop,
  };
  writeArtifacts(options.outDir, summary, traces, io.env);
  if (options.historyFile) writeHistory(options.historyFile, history, entry);
  printReport(io, options.json, summary, traces);
  return summary.pass ? EXIT.ok : EXIT.failed;
}

/** `telegram_main`, `slack_main`, `discord_main`: the connector ids the example profiles and the docs use. */
function conventionalTargets(required: ExternalChannel[]): ChannelTarget[] {
  return required.map((channel) => ({
    channel,
    profile: {
      connectorId: `${channel}_main`,
      channel: null,
      adapter: null,
      fromRole: null,
      toRole: null,
      type: null,
    },
  }));
}

function channelDetails(configured: ExternalChannel[], required: ExternalChannel[], requiredPass: boolean) {
  return {
    configuredChannels: configured,
    requiredChannels: required,
    missingRequiredChannels: required.filter((c) => !configured.includes(c)),
    requiredChannelsPass: requiredPass,
  };
}

function correlation(runId: string, env: NodeJS.ProcessEnv, version: unknown) {
  const server = env.GITHUB_SERVER_URL;
  const repo = env.GITHUB_REPOSITORY;
  const run = env.GITHUB_RUN_ID;
  return {
    runId,
    gatewayVersion: typeof version === 'string' ? version : null,
    commitSha: env.GITHUB_SHA ?? null,
    workflowRunUrl: server && repo && run ? `${server}/${repo}/actions/runs/${run}` : null,
  };
}
