import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateSummary, validateTraces } from './gate-support.js';

const example = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../docs/ops/examples/${name}`, import.meta.url), 'utf8'));

describe('docs/ops/schemas: the artifact schemas and the example artifacts', () => {
  it('the example artifacts in docs/ops/examples validate', () => {
    const summary = example('production-launch-gate-summary.example.json');
    expect(validateSummary(summary), JSON.stringify(validateSummary.errors)).toBe(true);
    const traces = example('production-agent-gateway-external-channel-traces.example.json');
    expect(validateTraces(traces), JSON.stringify(validateTraces.errors)).toBe(true);
  });

  it('reject what must never be there: a secret in the config, an unknown failure mode, a pass with a failure mode', () => {
    const summary = example('production-launch-gate-summary.example.json');
    expect(validateSummary({ ...summary, config: { ...summary.config, adminToken: 'x' } })).toBe(false);
    const modes = summary.checks.ingestExternalChannelFailureModes;
    const bad = {
      ...summary,
      checks: {
        ...summary.checks,
        ingestExternalChannelFailureModes: {
          ...modes,
          failedChannels: [{ channel: 'discord', connectorId: 'discord_main', failureMode: 'timeout' }],
        },
      },
    };
    expect(validateSummary(bad)).toBe(false);
    const traces = example('production-agent-gateway-external-channel-traces.example.json');
    const failed = traces.channels.find((c: { pass: boolean }) => !c.pass);
    expect(validateTraces({ ...traces, channels: [{ ...failed, pass: true }] })).toBe(false);
  });
});
