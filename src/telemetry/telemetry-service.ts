import type { Database } from '../db/database.js';
import {
  compactionsByHour,
  databaseNow,
  providerUsage,
  type SessionGroup,
  sessionGroups,
  sumCounts,
  type TelemetryFilters,
} from './telemetry-store.js';

export type Level = 'healthy' | 'watch' | 'critical' | 'unknown';

/** SPEC §8 thresholds. "above" levels rise with the rate; the runtime success rate is bad when it falls. */
export const telemetryThresholds = {
  autoCompactionShare: { watch: 0.5, critical: 0.8, direction: 'above' },
  failedStepRate: { watch: 0.25, critical: 0.5, direction: 'above' },
  runtimeSuccessRate: { watch: 0.75, critical: 0.5, direction: 'below' },
  cooldownSkipRate: { watch: 0.2, critical: 0.4, direction: 'above' },
} as const;

/** Adapter error rate levels and the error budget (5 % of sessions may fail). */
export const adapterThresholds = { errorRate: { watch: 0.05, critical: 0.1, direction: 'above' } } as const;
const ERROR_BUDGET_RATE = 0.05;

/** Where a session came from: the admin sessions API, a draft cycle, or an external channel (ingest). */
export const adapterRegistry = ['web', 'live_session', 'external_webhook'] as const;

type Threshold = { watch: number; critical: number; direction: 'above' | 'below' };

/** A ratio rounded to 3 decimals; null when there is nothing to divide by. */
export function rate(numerator: number, denominator: number): number | null {
  if (denominator === 0) return null;
  return Math.round((numerator / denominator) * 1000) / 1000;
}

export function levelOf(value: number | null, threshold: Threshold): Level {
  if (value === null) return 'unknown';
  if (threshold.direction === 'above') {
    if (value >= threshold.critical) return 'critical';
    return value >= threshold.watch ? 'watch' : 'healthy';
  }
  if (value < threshold.critical) return 'critical';
  return value < threshold.watch ? 'watch' : 'healthy';
}

/** The worst known level; unknown only when every input is unknown. */
export function worstLevel(levels: Level[]): Level {
  const rank: Record<Level, number> = { unknown: -1, healthy: 0, watch: 1, critical: 2 };
  let worst: Level = 'unknown';
  for (const level of levels) if (rank[level] > rank[worst]) worst = level;
  return worst;
}

/** What the ingest side contributes to snapshots (connector counters and the configured profiles/policies). */
export interface IngestTelemetrySource {
  connectors(filters: TelemetryFilters, limit: number): Promise<unknown>;
  policies(): unknown;
  profiles(): unknown;
}

const noIngest: IngestTelemetrySource = {
  connectors: async () => ({ total: 0, accepted: 0, replayed: 0, rejected: 0, connectors: [] }),
  policies: () => ({ total: 0, policies: [] }),
  profiles: () => ({ total: 0, profiles: [] }),
};

export interface SnapshotQuery extends TelemetryFilters {
  limit: number;
}

function filtersOf(query: TelemetryFilters) {
  return {
    channel: query.channel ?? null,
    provider: query.provider ?? null,
    connector: query.connector ?? null,
  };
}

/** Every hour of the window (UTC, oldest first), zero-filled, ending with the current hour. */
function hourlyBuckets(now: string, hours: number, rows: Awaited<ReturnType<typeof compactionsByHour>>) {
  const byHour = new Map(rows.map((r) => [r.hour, r]));
  const current = new Date(now);
  current.setUTCMinutes(0, 0, 0);
  const buckets = [];
  for (let i = hours - 1; i >= 0; i--) {
    const hour = new Date(current.getTime() - i * 3_600_000).toISOString();
    const row = byHour.get(hour);
    buckets.push({
      hour,
      compactions: row?.compactions ?? 0,
      autoCompactions: row?.autoCompactions ?? 0,
      manualCompactions: (row?.compactions ?? 0) - (row?.autoCompactions ?? 0),
      prunedEvents: row?.prunedEvents ?? 0,
    });
  }
  return buckets;
}

function adapterSnapshot(groups: SessionGroup[]) {
  const usage = adapterRegistry.map((adapter) => {
    const counts = sumCounts(groups.filter((g) => g.adapter === adapter));
    const errorRate = rate(counts.failed, counts.total);
    return {
      adapter,
      total: counts.total,
      success: counts.total - counts.failed,
      failed: counts.failed,
      errorRate,
      level: levelOf(errorRate, adapterThresholds.errorRate),
    };
  });
  const total = usage.reduce((sum, u) => sum + u.total, 0);
  const failed = usage.reduce((sum, u) => sum + u.failed, 0);
  const allowedFailures = Math.floor(total * ERROR_BUDGET_RATE);
  const errorRate = rate(failed, total);
  return {
    total,
    success: total - failed,
    failed,
    errorRate,
    level: levelOf(errorRate, adapterThresholds.errorRate),
    errorBudget: {
      allowedErrorRate: ERROR_BUDGET_RATE,
      allowedFailures,
      failures: failed,
      remaining: allowedFailures - failed,
      consumed: rate(failed, allowedFailures),
    },
    usage,
    thresholds: adapterThresholds,
    registry: [...adapterRegistry],
  };
}

/**
 * Telemetry and adapters snapshots (SPEC §8), computed from the session rows' roll-up columns, the per-session
 * counters and the compaction roll-up — indexed tables kept on write, never a scan of event payloads. Numbers
 * cover the sessions active in the window (last activity within `hours`); `limit` bounds the usage lists.
 */
export class TelemetryService {
  private ingest: IngestTelemetrySource = noIngest;

  constructor(private readonly deps: { database: Database; staleMinutes: number }) {}

  /** Set by the composition root once the ingest side exists. */
  setIngestSource(source: IngestTelemetrySource): void {
    this.ingest = source;
  }

  async telemetry(query: SnapshotQuery) {
    const { database, staleMinutes } = this.deps;
    const [now, groups, providers, trend, ingestConnectors] = await Promise.all([
      databaseNow(database.orm),
      sessionGroups(database.orm, query, staleMinutes),
      providerUsage(database.orm, query, query.limit),
      compactionsByHour(database.orm, query),
      this.ingest.connectors(query, query.limit),
    ]);
    const totals = sumCounts(groups);
    const channels = new Map<string, { channel: string; sessions: number; events: number }>();
    for (const group of groups) {
      const entry = channels.get(group.channel) ?? { channel: group.channel, sessions: 0, events: 0 };
      entry.sessions += group.total;
      entry.events += group.events;
      channels.set(group.channel, entry);
    }
    const channelUsage = [...channels.values()]
      .sort((a, b) => b.sessions - a.sessions || (a.channel < b.channel ? -1 : 1))
      .slice(0, query.limit);
    const success = totals.attemptSuccess;
    const failed = totals.attemptFailed;
    const skippedCooldown = totals.attemptSkipped;
    const attemptTotal = success + failed + skippedCooldown;
    const manual = totals.compactions - totals.autoCompactions;
    const autoCompactionShare = rate(totals.autoCompactions, totals.compactions);
    const failedStepRate = rate(totals.failedStepEvents, totals.stepEvents);
    const successRate = rate(success, attemptTotal);
    const skippedRate = rate(skippedCooldown, attemptTotal);
    const health = {
      failedStepLevel: levelOf(failedStepRate, telemetryThresholds.failedStepRate),
      runtimeSuccessLevel: levelOf(successRate, telemetryThresholds.runtimeSuccessRate),
      cooldownSkipLevel: levelOf(skippedRate, telemetryThresholds.cooldownSkipRate),
      autoCompactionLevel: levelOf(autoCompactionShare, telemetryThresholds.autoCompactionShare),
    };
    return {
      windowHours: query.hours,
      sampleLimit: query.limit,
      generatedAt: now,
      filters: filtersOf(query),
      sessions: {
        total: totals.total,
        active: totals.active,
        closed: totals.closed,
        attention: totals.attention,
        compacted: totals.compacted,
        autoCompacted: totals.autoCompacted,
        stale: totals.stale,
        attentionRate: rate(totals.attention, totals.total),
        compactionRate: rate(totals.compacted, totals.total),
        autoCompactedRate: rate(totals.autoCompacted, totals.total),
      },
      events: {
        total: totals.events,
        draftCycleStepEvents: totals.stepEvents,
        failedStepEvents: totals.failedStepEvents,
        compactionEvents: totals.compactions,
        autoCompactionEvents: totals.autoCompactions,
        manualCompactionEvents: manual,
        autoCompactionShare,
        prunedEventCount: totals.pruned,
        failedStepRate,
        compactionHourlyTrend: hourlyBuckets(now, query.hours, trend),
      },
      attempts: {
        total: attemptTotal,
        success,
        failed,
        skippedCooldown,
        successRate,
        failureRate: rate(failed, attemptTotal),
        skippedRate,
      },
      health: { level: worstLevel(Object.values(health)), ...health },
      thresholds: telemetryThresholds,
      providerUsage: providers,
      channelUsage,
      adapters: adapterSnapshot(groups),
      ingestConnectors,
      connectorPolicies: this.ingest.policies(),
      connectorProfiles: this.ingest.profiles(),
    };
  }

  async adapters(query: TelemetryFilters) {
    const { database, staleMinutes } = this.deps;
    const [now, groups, ingestConnectors] = await Promise.all([
      databaseNow(database.orm),
      sessionGroups(database.orm, query, staleMinutes),
      this.ingest.connectors(query, 1000),
    ]);
    return {
      windowHours: query.hours,
      generatedAt: now,
      filters: filtersOf(query),
      adapters: adapterSnapshot(groups),
      ingestConnectors,
      connectorPolicies: this.ingest.policies(),
      connectorProfiles: this.ingest.profiles(),
    };
  }
}
