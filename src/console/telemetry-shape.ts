/**
 * Reads the parts of the telemetry snapshot (SPEC §8) whose inner shape the contract leaves open — the hourly
 * trend, usage lists, connector counts, policies and profiles — accepting either a list of objects or a map keyed
 * by name (optionally wrapped with totals). Pure (no DOM) so it is unit-tested in Node.
 */

export type Level = 'healthy' | 'watch' | 'critical' | 'unknown';

export interface TelemetrySnapshot {
  windowHours: number;
  sampleLimit?: number;
  generatedAt: string;
  filters?: Record<string, unknown>;
  sessions: Record<string, number | null>;
  events: Record<string, unknown> & { compactionHourlyTrend?: unknown };
  attempts: { total: number; success: number; failed: number; skippedCooldown: number } & Record<
    string,
    number | null
  >;
  health: Record<string, Level>;
  thresholds?: Record<string, unknown>;
  providerUsage?: unknown;
  channelUsage?: unknown;
  adapters?: unknown;
  ingestConnectors?: unknown;
  connectorPolicies?: unknown;
  connectorProfiles?: unknown;
}

export type Row = Record<string, unknown> & { name: string };

const wrapperKeys = [
  'items',
  'rows',
  'entries',
  'connectors',
  'byConnector',
  'usage',
  'providers',
  'channels',
  'profiles',
  'policies',
];
const aggregateKeys = new Set(['total', 'totals', 'count', 'generatedAt', 'windowHours', 'configured']);
const nameKeys = [
  'name',
  'connectorId',
  'connector',
  'provider',
  'channel',
  'adapter',
  'id',
  'hour',
  'bucket',
];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nameOf(item: Record<string, unknown>, preferred: string[]): string {
  for (const key of [...preferred, ...nameKeys]) {
    const v = item[key];
    if (typeof v === 'string' || typeof v === 'number') return String(v);
  }
  return '?';
}

/** A list of named rows from a list, a map, or a wrapper object holding either. */
export function rows(value: unknown, preferredName: string[] = []): Row[] {
  if (Array.isArray(value)) {
    return value.map((item) =>
      isObject(item) ? { ...item, name: nameOf(item, preferredName) } : { name: String(item) },
    );
  }
  if (!isObject(value)) return [];
  for (const key of wrapperKeys) {
    const inner = value[key];
    if (
      Array.isArray(inner) ||
      (isObject(inner) && Object.values(inner).some((v) => isObject(v) || typeof v === 'number'))
    )
      return rows(inner, preferredName);
  }
  return Object.entries(value).flatMap(([key, v]): Row[] => {
    if (isObject(v)) return [{ ...v, name: key }];
    if (aggregateKeys.has(key)) return [];
    if (typeof v === 'number') return [{ name: key, count: v }];
    if (typeof v === 'string') return [{ name: key, value: v }];
    return [];
  });
}

/** The first numeric field among `keys`, else `fallback`. */
export function num(row: Record<string, unknown> | undefined, keys: string[], fallback = 0): number {
  for (const key of keys) {
    const v = row?.[key];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return fallback;
}

const countKeys = ['count', 'total', 'events', 'attempts', 'sessions', 'requests', 'value'];

/** Usage by provider / channel as (label, value), largest first. */
export function usage(value: unknown, name: string): { label: string; value: number }[] {
  return rows(value, [name])
    .map((r) => ({ label: r.name, value: num(r, countKeys) }))
    .sort((a, b) => b.value - a.value);
}

export interface TrendBucket {
  label: string;
  hour: string;
  auto: number;
  manual: number;
}

/** The hourly compaction trend as UTC-hour buckets split into automatic and manual compactions. */
export function compactionTrend(snapshot: TelemetrySnapshot): TrendBucket[] {
  return rows(snapshot.events?.compactionHourlyTrend, ['hour', 'bucket', 'start'])
    .map((r) => {
      const total = num(r, ['compactionEvents', 'compactions', 'count', 'total']);
      const auto = num(r, ['autoCompactionEvents', 'autoCompactions', 'auto'], Number.NaN);
      const manualGiven = num(r, ['manualCompactionEvents', 'manualCompactions', 'manual'], Number.NaN);
      const autoCount = Number.isNaN(auto) ? (Number.isNaN(manualGiven) ? 0 : total - manualGiven) : auto;
      const manual = Number.isNaN(manualGiven) ? Math.max(0, total - autoCount) : manualGiven;
      const date = new Date(r.name);
      const label = Number.isNaN(date.getTime()) ? r.name : `${date.toISOString().slice(11, 13)}:00`;
      return { label, hour: r.name, auto: autoCount, manual };
    })
    .sort((a, b) => (a.hour < b.hour ? -1 : 1));
}

export interface ConnectorRow {
  connectorId: string;
  channel: string | null;
  accepted: number;
  replayed: number;
  rejected: number;
  riskLevel: string;
  rejectCodes: [string, number][];
}

/** Ingest outcomes per connector with the connector's policy risk level (`standard` when none is configured). */
export function connectors(snapshot: TelemetrySnapshot): ConnectorRow[] {
  const policies = new Map(rows(snapshot.connectorPolicies, ['connectorId']).map((p) => [p.name, p]));
  return rows(snapshot.ingestConnectors, ['connectorId']).map((r) => {
    const codes = r.rejectCodes ?? r.rejectedByCode ?? r.byCode ?? r.codes;
    const rejectCodes = rows(codes, ['code'])
      .map((c): [string, number] => [c.name, num(c, countKeys)])
      .filter(([code, n]) => n > 0 && code !== 'ok' && code !== 'accepted');
    const risk =
      r.riskLevel ??
      (r.policy as Record<string, unknown> | undefined)?.riskLevel ??
      policies.get(r.name)?.riskLevel;
    return {
      connectorId: r.name,
      channel: typeof r.channel === 'string' ? r.channel : null,
      accepted: num(r, ['accepted', 'acceptedEvents', 'applied']),
      replayed: num(r, ['replayed', 'deduplicated', 'replays']),
      rejected: num(r, ['rejected', 'rejectedEvents']),
      riskLevel: typeof risk === 'string' ? risk : 'standard',
      rejectCodes,
    };
  });
}

export const profileFields = ['adapter', 'channel', 'fromRole', 'toRole', 'type'] as const;

/** Connector profiles: a bare string profile means the channel. */
export function profiles(
  snapshot: TelemetrySnapshot,
): (Record<(typeof profileFields)[number], string> & { connectorId: string })[] {
  return rows(snapshot.connectorProfiles, ['connectorId']).map((r) => {
    const source = (isObject(r.profile) ? r.profile : r) as Record<string, unknown>;
    const out = { connectorId: r.name } as Record<string, string>;
    for (const key of profileFields)
      out[key] = typeof source[key] === 'string' ? (source[key] as string) : '';
    if (typeof r.value === 'string' && !out.channel) out.channel = r.value;
    return out as Record<(typeof profileFields)[number], string> & { connectorId: string };
  });
}
