import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CliIo, table } from '../cli-context.js';
import type { ChannelTrace } from './channel-probes.js';
import type { CheckResult } from './gate-check.js';
import type { HardStop } from './gate-history.js';

export const SUMMARY_FILE = 'production-launch-gate-summary.json';
export const TRACES_FILE = 'production-agent-gateway-external-channel-traces.json';

/** `production-launch-gate-summary.json` (schema: docs/ops/schemas/production-launch-gate-summary.schema.json). */
export interface GateSummary {
  pass: boolean;
  status: 'pass' | 'pass_with_warnings' | 'fail' | 'pause_rollout';
  generatedAtUtc: string;
  startedAtUtc: string;
  durationMs: number;
  correlation: {
    runId: string;
    gatewayVersion: string | null;
    commitSha: string | null;
    workflowRunUrl: string | null;
  };
  config: Record<string, unknown>;
  checks: Record<string, CheckResult>;
  hardStop: HardStop;
}

interface FailedChannel {
  channel: string;
  connectorId: string;
  failureMode: string;
}

function failedChannelsOf(summary: GateSummary): FailedChannel[] {
  return (summary.checks.ingestExternalChannelFailureModes as unknown as { failedChannels: FailedChannel[] })
    .failedChannels;
}

/** Writes the summary and the per-channel traces (and the GitHub step summary when running in Actions). */
export function writeArtifacts(
  outDir: string,
  summary: GateSummary,
  traces: ChannelTrace[],
  env: NodeJS.ProcessEnv,
): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`);
  const tracesDoc = {
    generatedAtUtc: summary.generatedAtUtc,
    correlation: summary.correlation,
    apiBaseUrl: summary.config.apiBaseUrl,
    channels: traces,
  };
  writeFileSync(join(outDir, TRACES_FILE), `${JSON.stringify(tracesDoc, null, 2)}\n`);
  const stepSummary = env.GITHUB_STEP_SUMMARY;
  if (stepSummary) appendFileSync(stepSummary, `${stepSummaryMarkdown(summary, traces)}\n`);
}

const md = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function result(check: CheckResult): string {
  if (check.skipped) return check.pass ? 'skipped' : 'FAIL (skipped)';
  return check.pass ? 'pass' : 'FAIL';
}

/** The GitHub step summary: verdict, a table of checks and one of failed channels with their routing. */
export function stepSummaryMarkdown(summary: GateSummary, traces: ChannelTrace[]): string {
  const lines = [
    `## Production launch gate: ${summary.pass ? '✅' : '❌'} ${summary.status}`,
    '',
    `Run \`${summary.correlation.runId}\` against \`${String(summary.config.apiBaseUrl)}\`` +
      ` (strict: ${String(summary.config.strict)}, ${summary.durationMs} ms)`,
    '',
    '| Check | Result | ms | Notes |',
    '| --- | --- | --- | --- |',
    ...Object.entries(summary.checks).map(
      ([name, c]) =>
        `| ${name} | ${result(c)} | ${c.durationMs} | ${md(c.skipReason ?? c.errors.join('; ') ?? '')} |`,
    ),
  ];
  const failed = traces.filter((t) => !t.pass);
  if (failed.length > 0) {
    lines.push(
      '',
      '### Failed external channels',
      '',
      '| Channel | Connector | failureMode | First operator actions | Escalate to |',
      '| --- | --- | --- | --- | --- |',
      ...failed.map(
        (t) =>
          `| ${t.channel} | ${md(t.connectorId)} | \`${t.failureMode}\` | ${md(t.routing?.firstActions ?? '')} | ${md(t.routing?.escalateTo ?? '')} |`,
      ),
    );
  }
  if (summary.hardStop.message) lines.push('', `**${summary.hardStop.message}**`);
  return lines.join('\n');
}

/** Prints the verdict: a check table, channel results, the routing row of each failed channel, the hard stop. */
export function printReport(io: CliIo, json: boolean, summary: GateSummary, traces: ChannelTrace[]): void {
  const failed = traces.filter((t) => !t.pass);
  const routing = failed.map(
    (t) =>
      `${t.channel}/${t.connectorId}: ${t.failureMode}\n` +
      `  typical signal:   ${t.routing?.typicalSignal}\n` +
      `  first actions:    ${t.routing?.firstActions}\n` +
      `  escalate to:      ${t.routing?.escalateTo}\n` +
      `  observed:         ${t.errors.join('; ')}`,
  );
  if (json) {
    io.out(JSON.stringify(summary, null, 2));
    for (const text of routing) io.err(text);
    if (summary.hardStop.message) io.err(summary.hardStop.message);
    return;
  }
  io.out(`launch gate ${summary.correlation.runId} → ${String(summary.config.apiBaseUrl)}`);
  io.out(
    table(
      ['CHECK', 'RESULT', 'MS', 'NOTES'],
      Object.entries(summary.checks).map(([name, c]) => [
        name,
        result(c),
        c.durationMs,
        (c.skipReason ?? c.errors.join('; ')) || null,
      ]),
    ),
  );
  if (traces.length > 0) {
    io.out('');
    io.out(
      table(
        ['CHANNEL', 'CONNECTOR', 'RESULT', 'FAILURE MODE', 'EXPECTED', 'RESOLVED'],
        traces.map((t) => [
          t.channel,
          t.connectorId,
          t.pass ? 'pass' : 'FAIL',
          t.failureMode,
          t.expectedExternalSessionId,
          t.resolvedExternalSessionId,
        ]),
      ),
    );
  }
  if (routing.length > 0) {
    io.out('');
    io.out('Failed channels — runbook routing (docs/ops/agent-gateway-ai-runtime-runbook.md):');
    for (const text of routing) io.out(text);
  }
  if (summary.hardStop.message) {
    io.out('');
    io.out(summary.hardStop.message);
  }
  io.out('');
  io.out(`GATE ${summary.status.toUpperCase()} (${failedChannelsOf(summary).length} failed channel(s))`);
}
