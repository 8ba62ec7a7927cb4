import { createServer, type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TelemetrySnapshot } from '../../src/console/telemetry-shape.js';

/**
 * A telemetry snapshot shaped like SPEC §8 (the endpoint itself is another issue). Where SPEC leaves the inner
 * shape open it uses lists of named rows and maps keyed by connector, which the console reads either way.
 */
export const telemetrySnapshot: TelemetrySnapshot = {
  windowHours: 24,
  sampleLimit: 200,
  generatedAt: '2026-11-27T22:30:00.000Z',
  filters: { channel: null, provider: null, connector: null },
  sessions: {
    total: 48,
    active: 12,
    closed: 36,
    attention: 3,
    compacted: 5,
    autoCompacted: 3,
    stale: 2,
    attentionRate: 0.063,
    compactionRate: 0.104,
    autoCompactedRate: 0.063,
  },
  events: {
    total: 2310,
    draftCycleStepEvents: 90,
    failedStepEvents: 6,
    compactionEvents: 7,
    autoCompactionEvents: 4,
    manualCompactionEvents: 3,
    autoCompactionShare: 0.571,
    prunedEventCount: 1480,
    failedStepRate: 0.067,
    compactionHourlyTrend: [
      {
        hour: '2026-11-27T21:00:00.000Z',
        compactionEvents: 3,
        autoCompactionEvents: 3,
        manualCompactionEvents: 0,
      },
      {
        hour: '2026-11-27T20:00:00.000Z',
        compactionEvents: 2,
        autoCompactionEvents: 1,
        manualCompactionEvents: 1,
      },
      {
        hour: '2026-11-27T22:00:00.000Z',
        compactionEvents: 2,
        autoCompactionEvents: 0,
        manualCompactionEvents: 2,
      },
    ],
  },
  attempts: {
    total: 200,
    success: 170,
    failed: 20,
    skippedCooldown: 10,
    successRate: 0.85,
    failureRate: 0.1,
    skippedRate: 0.05,
  },
  health: {
    level: 'watch',
    failedStepLevel: 'healthy',
    runtimeSuccessLevel: 'healthy',
    cooldownSkipLevel: 'healthy',
    autoCompactionLevel: 'watch',
  },
  thresholds: {
    autoCompactionShare: { watch: 0.5, critical: 0.8 },
    failedStepRate: { watch: 0.25, critical: 0.5 },
    runtimeSuccessRate: { watch: 0.75, critical: 0.5 },
    cooldownSkipRate: { watch: 0.2, critical: 0.4 },
  },
  providerUsage: [
    { provider: 'anthropic-backup', attempts: 30 },
    { provider: 'openai-main', attempts: 120 },
    { provider: 'local-fallback', attempts: 50 },
  ],
  channelUsage: [
    { channel: 'telegram', sessions: 20 },
    { channel: 'draft_cycle', sessions: 25 },
    { channel: 'slack', sessions: 3 },
  ],
  adapters: { total: 46, success: 43, failed: 3, registry: ['web', 'live_session', 'external_webhook'] },
  ingestConnectors: [
    {
      connectorId: 'telegram_main',
      channel: 'telegram',
      accepted: 40,
      replayed: 2,
      rejected: 3,
      rejectCodes: { AGENT_GATEWAY_INGEST_SIGNATURE_INVALID: 3 },
    },
    {
      connectorId: 'discord_main',
      channel: 'discord',
      accepted: 3,
      replayed: 0,
      rejected: 5,
      rejectCodes: { AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMITED: 4, AGENT_GATEWAY_INGEST_INVALID_FIELDS: 1 },
    },
  ],
  connectorPolicies: {
    discord_main: { riskLevel: 'restricted', rateLimitMax: 30, requireConnectorSecret: true },
    telegram_main: { riskLevel: 'standard' },
  },
  connectorProfiles: {
    telegram_main: {
      adapter: 'external_webhook',
      channel: 'telegram',
      fromRole: 'observer',
      toRole: 'author',
      type: 'observer_message',
    },
    slack_main: 'slack',
  },
};

export interface TelemetryFake {
  url: string;
  /** Each telemetry request: its query string and whether it carried an admin token. */
  requests: { query: string; token: string | undefined }[];
  close(): Promise<void>;
}

/**
 * A local HTTP server in front of a real gateway: it answers `GET …/telemetry` with the snapshot above and passes
 * everything else (the console's files, whoami, other API calls) through to the gateway unchanged.
 */
export async function startTelemetryFake(gatewayUrl: string): Promise<TelemetryFake> {
  const target = new URL(gatewayUrl);
  const requests: TelemetryFake['requests'] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const [path, query = ''] = (req.url ?? '/').split('?');
    if (req.method === 'GET' && path === '/api/admin/agent-gateway/telemetry') {
      const token = req.headers['x-admin-token'];
      requests.push({ query, token: typeof token === 'string' ? token : undefined });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(telemetrySnapshot));
      return;
    }
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
