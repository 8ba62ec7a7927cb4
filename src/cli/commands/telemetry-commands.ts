import {
  type CliIo,
  EXIT,
  GatewayClient,
  parseFlags,
  remoteOptions,
  reportApiError,
  table,
} from '../cli-context.js';

export const telemetryUsage = `agw telemetry [--hours 24] [--limit 200] [--channel C] [--provider P] [--connector ID]
                                telemetry snapshot with health levels highlighted; exit 1 when critical
agw adapters [--hours 24] [--channel C] [--provider P] [--connector ID]
                                adapter usage, error budget and ingest connectors`;

const filterOptions = {
  ...remoteOptions,
  hours: { type: 'string' },
  channel: { type: 'string' },
  provider: { type: 'string' },
  connector: { type: 'string' },
} as const;

type Level = 'healthy' | 'watch' | 'critical' | 'unknown';

/** A level, coloured on a terminal (unless NO_COLOR), upper-cased and bracketed otherwise so it stands out in logs. */
function levelText(level: Level, io: CliIo): string {
  const color = process.stdout.isTTY === true && !io.env.NO_COLOR;
  if (!color) return level === 'healthy' ? level : `[${level.toUpperCase()}]`;
  const code = { healthy: 32, watch: 33, critical: 31, unknown: 90 }[level] ?? 0;
  return `\u001b[${code}m${level}\u001b[0m`;
}

const pct = (value: number | null) => (value === null ? '-' : `${(value * 100).toFixed(1)} %`);

function query(values: Record<string, unknown>, keys: string[]): string {
  const params = new URLSearchParams();
  for (const key of keys) if (typeof values[key] === 'string') params.set(key, values[key] as string);
  const text = params.toString();
  return text ? `?${text}` : '';
}

interface Snapshot {
  windowHours: number;
  generatedAt: string;
  sessions: Record<string, number | null>;
  events: Record<string, unknown> & { compactionHourlyTrend: { hour: string; compactions: number }[] };
  attempts: Record<string, number | null>;
  health: Record<string, Level>;
  providerUsage: { provider: string; events: number; sessions: number }[];
  channelUsage: { channel: string; sessions: number; events: number }[];
  adapters: AdapterSnapshot;
}

interface AdapterSnapshot {
  total: number;
  failed: number;
  errorRate: number | null;
  level: Level;
  errorBudget: { allowedFailures: number; remaining: number };
  usage: { adapter: string; total: number; failed: number; errorRate: number | null; level: Level }[];
}

function adapterLines(adapters: AdapterSnapshot, io: CliIo): string[] {
  return [
    `adapters  ${adapters.total} sessions, ${adapters.failed} failed (${pct(adapters.errorRate)}) ${levelText(adapters.level, io)}; ` +
      `error budget ${adapters.errorBudget.remaining} of ${adapters.errorBudget.allowedFailures} left`,
    table(
      ['adapter', 'sessions', 'failed', 'error rate', 'level'],
      adapters.usage.map((u) => [u.adapter, u.total, u.failed, pct(u.errorRate), levelText(u.level, io)]),
    ),
  ];
}

/** `agw telemetry`: the SPEC §8 snapshot as a readable report. */
export async function telemetryCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, { ...filterOptions, limit: { type: 'string' } });
  const client = GatewayClient.from(values, io.env);
  const path = `/api/admin/agent-gateway/telemetry${query(values, ['hours', 'limit', 'channel', 'provider', 'connector'])}`;
  const response = await client.request('GET', path);
  if (response.status !== 200) return reportApiError(io, response, values.json === true);
  const snap = response.body as Snapshot;
  if (values.json) {
    io.out(JSON.stringify(snap, null, 2));
    return snap.health.level === 'critical' ? EXIT.failed : EXIT.ok;
  }
  const s = snap.sessions;
  const e = snap.events;
  const a = snap.attempts;
  const h = snap.health;
  const trend = e.compactionHourlyTrend.filter((b) => b.compactions > 0);
  io.out(
    [
      `telemetry over the last ${snap.windowHours} h (generated ${snap.generatedAt}): ${levelText(h.level!, io)}`,
      `sessions  ${s.total} total, ${s.active} active, ${s.closed} closed, ${s.stale} stale, ${s.attention} need attention (${pct(s.attentionRate ?? null)})`,
      `events    ${e.total} total, ${e.draftCycleStepEvents} step events, ${e.failedStepEvents} failed (${pct(e.failedStepRate as number | null)}) ${levelText(h.failedStepLevel!, io)}`,
      `attempts  ${a.total} total: ${a.success} success (${pct(a.successRate ?? null)}) ${levelText(h.runtimeSuccessLevel!, io)}, ` +
        `${a.failed} failed, ${a.skippedCooldown} skipped in cooldown (${pct(a.skippedRate ?? null)}) ${levelText(h.cooldownSkipLevel!, io)}`,
      `compaction ${e.compactionEvents} (${e.autoCompactionEvents} automatic, share ${pct(e.autoCompactionShare as number | null)}) ${levelText(h.autoCompactionLevel!, io)}, ${e.prunedEventCount} events pruned`,
      trend.length > 0
        ? `           by hour: ${trend.map((b) => `${b.hour.slice(11, 16)}Z ${b.compactions}`).join(', ')}`
        : '           no compactions in the window',
      '',
      table(
        ['provider', 'events', 'sessions'],
        snap.providerUsage.map((p) => [p.provider, p.events, p.sessions]),
      ),
      '',
      table(
        ['channel', 'sessions', 'events'],
        snap.channelUsage.map((c) => [c.channel, c.sessions, c.events]),
      ),
      '',
      ...adapterLines(snap.adapters, io),
    ].join('\n'),
  );
  return h.level === 'critical' ? EXIT.failed : EXIT.ok;
}

/** `agw adapters`: adapter usage, error budget and the ingest connectors. */
export async function adaptersCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, filterOptions);
  const client = GatewayClient.from(values, io.env);
  const path = `/api/admin/agent-gateway/adapters${query(values, ['hours', 'channel', 'provider', 'connector'])}`;
  const response = await client.request('GET', path);
  if (response.status !== 200) return reportApiError(io, response, values.json === true);
  const body = response.body as {
    windowHours: number;
    adapters: AdapterSnapshot;
    ingestConnectors?: IngestConnectors;
    connectorProfiles?: ConnectorProfiles;
  };
  if (values.json) {
    io.out(JSON.stringify(body, null, 2));
    return EXIT.ok;
  }
  io.out(
    [
      `adapters over the last ${body.windowHours} h`,
      ...adapterLines(body.adapters, io),
      '',
      ...connectorLines(body.ingestConnectors, body.connectorProfiles, io),
    ].join('\n'),
  );
  return EXIT.ok;
}

interface IngestConnectors {
  accepted: number;
  replayed: number;
  rejected: number;
  connectors: {
    connectorId: string;
    channels: string[];
    total: number;
    accepted: number;
    replayed: number;
    rejected: number;
    rejectRate: number | null;
    rejectCodes: { code: string; count: number }[];
    riskLevel: string;
    level: Level;
  }[];
}

interface ConnectorProfiles {
  enforced: boolean;
  profiles: ({ connectorId: string } & Record<string, string | undefined>)[];
}

/** Ingest connectors (accepted / replayed / rejected with the top reject code) and the configured profiles. */
function connectorLines(
  ingest: IngestConnectors | undefined,
  profiles: ConnectorProfiles | undefined,
  io: CliIo,
): string[] {
  const lines: string[] = [];
  if (ingest) {
    lines.push(
      `ingest    ${ingest.accepted} accepted, ${ingest.replayed} replayed, ${ingest.rejected} rejected`,
      table(
        [
          'connector',
          'channels',
          'accepted',
          'replayed',
          'rejected',
          'reject rate',
          'top reject',
          'risk',
          'level',
        ],
        ingest.connectors.map((c) => [
          c.connectorId,
          c.channels.join(',') || null,
          c.accepted,
          c.replayed,
          c.rejected,
          pct(c.rejectRate),
          c.rejectCodes[0] ? `${c.rejectCodes[0].code} (${c.rejectCodes[0].count})` : null,
          c.riskLevel,
          levelText(c.level, io),
        ]),
      ),
    );
  }
  if (profiles) {
    lines.push(
      '',
      `connector profiles (${profiles.enforced ? 'strict: conflicting requests are refused' : 'defaults only'})`,
      table(
        ['connector', 'adapter', 'channel', 'from', 'to', 'type'],
        profiles.profiles.map((p) => [p.connectorId, p.adapter, p.channel, p.fromRole, p.toRole, p.type]),
      ),
    );
  }
  return lines;
}
