import type { ConnectorPolicy, ConnectorProfile } from '../config/ingest-settings.js';
import type { Database } from '../db/database.js';
import type { IngestTelemetrySource } from '../telemetry/telemetry-service.js';
import type { TelemetryFilters } from '../telemetry/telemetry-store.js';
import { ingestCountsSince } from './ingest-store.js';

type RiskLevel = ConnectorPolicy['riskLevel'];

/**
 * The ingest side of the telemetry and adapters snapshots: accepted / replayed / rejected per connector (with the
 * reject codes) from the hourly `ingest_counters` roll-up, and the configured policies and profiles. A connector
 * whose requests are mostly rejected is `critical` (≥ 50 %) or `watch` (≥ 10 %); no requests is `unknown`.
 */
export function ingestTelemetry(deps: {
  database: Database;
  profiles: Readonly<Record<string, ConnectorProfile>>;
  policies: Readonly<Record<string, ConnectorPolicy>>;
  enforceProfiles: boolean;
}): IngestTelemetrySource {
  const riskOf = (connectorId: string): RiskLevel => deps.policies[connectorId]?.riskLevel ?? 'standard';
  return {
    async connectors(filters: TelemetryFilters, limit: number) {
      const rows = await ingestCountsSince(deps.database.orm, filters.hours, filters.connector);
      const byConnector = new Map<
        string,
        {
          connectorId: string;
          channels: Set<string>;
          accepted: number;
          replayed: number;
          rejected: number;
          rejectCodes: Map<string, number>;
        }
      >();
      for (const row of rows) {
        if (filters.channel && row.channel !== filters.channel) continue;
        let entry = byConnector.get(row.connectorId);
        if (!entry) {
          entry = {
            connectorId: row.connectorId,
            channels: new Set(),
            accepted: 0,
            replayed: 0,
            rejected: 0,
            rejectCodes: new Map(),
          };
          byConnector.set(row.connectorId, entry);
        }
        if (row.channel) entry.channels.add(row.channel);
        if (row.outcome === 'accepted') entry.accepted += row.count;
        else if (row.outcome === 'replayed') entry.replayed += row.count;
        else {
          entry.rejected += row.count;
          entry.rejectCodes.set(row.code, (entry.rejectCodes.get(row.code) ?? 0) + row.count);
        }
      }
      const connectors = [...byConnector.values()]
        .map((entry) => {
          const total = entry.accepted + entry.replayed + entry.rejected;
          const rejectRate = total === 0 ? null : Math.round((entry.rejected / total) * 1000) / 1000;
          return {
            connectorId: entry.connectorId,
            channels: [...entry.channels].sort(),
            total,
            accepted: entry.accepted,
            replayed: entry.replayed,
            rejected: entry.rejected,
            rejectRate,
            rejectCodes: [...entry.rejectCodes]
              .map(([code, count]) => ({ code, count }))
              .sort((a, b) => b.count - a.count),
            riskLevel: riskOf(entry.connectorId),
            level:
              rejectRate === null
                ? 'unknown'
                : rejectRate >= 0.5
                  ? 'critical'
                  : rejectRate >= 0.1
                    ? 'watch'
                    : 'healthy',
          };
        })
        .sort((a, b) => b.total - a.total || (a.connectorId < b.connectorId ? -1 : 1))
        .slice(0, limit);
      const sum = (key: 'accepted' | 'replayed' | 'rejected') =>
        connectors.reduce((total, c) => total + c[key], 0);
      return {
        total: connectors.length,
        accepted: sum('accepted'),
        replayed: sum('replayed'),
        rejected: sum('rejected'),
        connectors,
      };
    },
    policies() {
      const policies = Object.entries(deps.policies)
        .map(([connectorId, policy]) => ({ connectorId, ...policy }))
        .sort((a, b) => (a.connectorId < b.connectorId ? -1 : 1));
      const byRisk = { restricted: 0, standard: 0, trusted: 0 };
      for (const policy of policies) byRisk[policy.riskLevel] += 1;
      return { total: policies.length, byRiskLevel: byRisk, policies };
    },
    profiles() {
      const profiles = Object.entries(deps.profiles)
        .map(([connectorId, profile]) => ({ connectorId, ...profile }))
        .sort((a, b) => (a.connectorId < b.connectorId ? -1 : 1));
      return { total: profiles.length, enforced: deps.enforceProfiles, profiles };
    },
  };
}
