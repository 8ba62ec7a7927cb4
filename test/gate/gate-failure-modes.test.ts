import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routingRow } from '../../src/cli/gate/failure-modes.js';
import { eventually, signedIngest } from '../helpers/ingest-client.js';
import { adminRequest, startTestGateway, TEST_TOKENS, type TestGateway } from '../helpers/test-gateway.js';
import {
  exampleProfiles,
  expectValidArtifacts,
  runGate,
  startRouteProxy,
  WEBHOOK_SECRET,
} from './gate-support.js';

const gateArgs = (url: string, channels: string) => [
  '--api-base-url',
  url,
  '--admin-token',
  TEST_TOKENS.admin,
  '--webhook-secret',
  WEBHOOK_SECRET,
  '--skip-runtime-probes',
  '--required-external-channels',
  channels,
];

const profile = (channel: string, adapter = 'external_webhook') => ({
  adapter,
  channel,
  fromRole: 'observer',
  toRole: 'author',
  type: 'observer_message',
});

// Each test runs whole gates (tens of HTTP probes, telemetry polling) on a 2-core machine shared with other suites;
// nothing here asserts speed.
describe('agw gate failure modes, each provoked on a real gateway', { timeout: 120_000 }, () => {
  it('strict profile conflict (strict mode rolled out to the replica taking ingest) → ingest_not_applied', async () => {
    // The gate reads the profiles from a replica without strict mode, so it sends its own probe `type`; the replica
    // that takes the ingest enforces the profile (`type: observer_message`) and refuses it with a 409.
    const env = {
      AGENT_GATEWAY_WEBHOOK_SECRET: WEBHOOK_SECRET,
      AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES: exampleProfiles,
    };
    const primary = await startTestGateway({ listen: true, env });
    const strict = await startTestGateway({
      listen: true,
      env: { ...env, AGENT_GATEWAY_INGEST_ENFORCE_CONNECTOR_PROFILE: 'true' },
    });
    const proxy = await startRouteProxy((path) =>
      path.startsWith('/api/agent-gateway/adapters/ingest') ? strict.url : primary.url,
    );
    try {
      const gate = await runGate(gateArgs(proxy.url, 'telegram'));
      expect(gate.code).toBe(1);
      expect(gate.summary.checks.ingestExternalChannelFailureModes).toMatchObject({
        failedChannels: [
          { channel: 'discord', connectorId: 'discord_main', failureMode: 'ingest_not_applied' },
          { channel: 'slack', connectorId: 'slack_main', failureMode: 'ingest_not_applied' },
          { channel: 'telegram', connectorId: 'telegram_main', failureMode: 'ingest_not_applied' },
        ],
        requiredFailedChannels: ['telegram'],
      });
      const telegram = gate.traces.channels.find((c) => c.channel === 'telegram')!;
      expect(telegram.steps.ingest).toMatchObject({
        httpStatus: 409,
        errorCode: 'AGENT_GATEWAY_INGEST_CONNECTOR_PROFILE_CONFLICT',
        applied: null,
      });
      expect(gate.stdout).toContain(routingRow('ingest_not_applied').firstActions);
      expectValidArtifacts(gate);
    } finally {
      await proxy.close();
      await strict.close();
      await primary.close();
    }
  });

  it('a strict gateway: the probe sends only the fields its profiles leave open, so it passes', async () => {
    const t = await startTestGateway({
      listen: true,
      env: {
        AGENT_GATEWAY_WEBHOOK_SECRET: WEBHOOK_SECRET,
        AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES: exampleProfiles,
        AGENT_GATEWAY_INGEST_ENFORCE_CONNECTOR_PROFILE: 'true',
      },
    });
    try {
      const gate = await runGate([...gateArgs(t.url, 'all'), '--strict']);
      expect(gate.code, gate.stdout).toBe(0);
      expect(gate.traces.channels.every((c) => c.pass)).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('profile channel that does not match the payload shape → fallback_session_mismatch; probe session closed', async () => {
    const t = await startTestGateway({
      listen: true,
      env: {
        AGENT_GATEWAY_WEBHOOK_SECRET: WEBHOOK_SECRET,
        AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES: JSON.stringify({ discord_main: profile('slack') }),
      },
    });
    try {
      const gate = await runGate(gateArgs(t.url, 'discord'));
      expect(gate.code).toBe(1);
      expect(gate.summary.checks.ingestExternalChannelFailureModes).toMatchObject({
        failedChannels: [
          { channel: 'discord', connectorId: 'discord_main', failureMode: 'fallback_session_mismatch' },
        ],
        requiredFailedChannels: ['discord'],
      });
      const trace = gate.traces.channels[0]!;
      expect(trace.expectedExternalSessionId).toMatch(/^discord_channel:\d+$/);
      expect(trace.resolvedExternalSessionId).not.toBe(trace.expectedExternalSessionId);
      expect(trace.steps.ingest).toMatchObject({ httpStatus: 201, applied: true, channel: 'slack' });
      const session = await adminRequest(
        t,
        'GET',
        `/api/admin/agent-gateway/sessions/${trace.steps.ingest!.sessionId}`,
      );
      expect(session.json().session.status).toBe('closed');
      expectValidArtifacts(gate);
      // Not required and not strict: reported, but the gate passes with a warning; strict fails it.
      const lenient = await runGate(gateArgs(t.url, 'x').slice(0, -2));
      expect(lenient.code, lenient.stdout).toBe(0);
      expect(lenient.summary).toMatchObject({ pass: true, status: 'pass_with_warnings' });
      expect(lenient.summary.checks.ingestExternalChannelFailureModes).toMatchObject({
        pass: true,
        failedChannels: [{ channel: 'discord', failureMode: 'fallback_session_mismatch' }],
        requiredFailedChannels: [],
      });
      expect(lenient.stdout).toContain('GATE PASS_WITH_WARNINGS');
      const strict = await runGate([...gateArgs(t.url, 'x').slice(0, -2), '--strict']);
      expect(strict.code).toBe(1);
      expect(strict.summary.checks.ingestExternalChannelFallback).toMatchObject({
        pass: false,
        requiredChannelsPass: true,
      });
    } finally {
      await t.close();
    }
  });

  describe('telemetry served by another replica (a path-routing proxy in front of two gateways)', () => {
    const env = {
      AGENT_GATEWAY_WEBHOOK_SECRET: WEBHOOK_SECRET,
      AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES: exampleProfiles,
    };
    let primary: TestGateway;
    let other: TestGateway | undefined;
    let telemetryTarget = '';
    let proxy: Awaited<ReturnType<typeof startRouteProxy>>;
    beforeAll(async () => {
      primary = await startTestGateway({ listen: true, env });
      proxy = await startRouteProxy((path) =>
        path.startsWith('/api/admin/agent-gateway/telemetry') ? telemetryTarget : primary.url,
      );
    });
    afterAll(async () => {
      await proxy?.close();
      await other?.close();
      await primary?.close();
    });
    const useReplica = async (replicaEnv: Record<string, string>) => {
      await other?.close();
      other = await startTestGateway({ listen: true, env: { ...env, ...replicaEnv } });
      telemetryTarget = other.url;
      return other;
    };
    const gateThroughProxy = () =>
      runGate([...gateArgs(proxy.url, 'telegram'), '--telemetry-wait-ms', '1500']);

    it('a replica that refuses the release token → telemetry_http_error', async () => {
      await useReplica({ ADMIN_API_TOKEN: 'another-deploys-admin-token-0123456789' });
      const gate = await gateThroughProxy();
      expect(gate.code).toBe(1);
      expect(gate.summary.checks.telemetry!.errors[0]).toContain('ADMIN_TOKEN_INVALID');
      const telegram = gate.traces.channels.find((c) => c.channel === 'telegram')!;
      expect(telegram).toMatchObject({ failureMode: 'telemetry_http_error' });
      expect(telegram.steps.telemetry).toMatchObject({ httpStatus: 401 });
      expect(gate.summary.checks.ingestExternalChannelFailureModes!.requiredFailedChannels).toEqual([
        'telegram',
      ]);
      expectValidArtifacts(gate);
    });

    it('a replica on a stale database that never saw the connector → telemetry_no_connector_events', async () => {
      await useReplica({});
      const gate = await gateThroughProxy();
      expect(gate.code).toBe(1);
      const telegram = gate.traces.channels.find((c) => c.channel === 'telegram')!;
      expect(telegram).toMatchObject({ failureMode: 'telemetry_no_connector_events' });
      expect(telegram.steps.telemetry).toMatchObject({ httpStatus: 200, connectorFound: false, total: 0 });
      expectValidArtifacts(gate);
    });

    it('a replica whose database only saw rejected requests for the connector → telemetry_zero_accepted', async () => {
      const replica = await useReplica({});
      const rejected = await signedIngest(
        replica,
        { connectorId: 'telegram_main', eventId: 'forged-1', payload: { message: { chat: { id: 1 } } } },
        { secret: 'forged-secret-0123456789' },
      );
      expect(rejected.statusCode).toBe(401);
      await eventually(async () => {
        const res = await adminRequest(
          replica,
          'GET',
          '/api/admin/agent-gateway/telemetry?hours=1&connector=telegram_main',
        );
        return res.json().ingestConnectors.rejected > 0 ? true : undefined;
      });
      const gate = await gateThroughProxy();
      expect(gate.code).toBe(1);
      const telegram = gate.traces.channels.find((c) => c.channel === 'telegram')!;
      expect(telegram).toMatchObject({ failureMode: 'telemetry_zero_accepted' });
      expect(telegram.steps.telemetry).toMatchObject({
        connectorFound: true,
        acceptedBefore: 0,
        acceptedAfter: 0,
      });
      expect(gate.stdout).toContain(routingRow('telemetry_zero_accepted').firstActions);
      expectValidArtifacts(gate);
    });
  });
});
