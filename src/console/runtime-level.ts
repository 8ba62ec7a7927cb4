/**
 * The Runtime page's badge, from one `GET /api/admin/ai-runtime/health` snapshot, following the runbook's
 * "Operational SLO Checks":
 * - critical: `summary.health = "degraded"` — some role has no available provider (`rolesBlocked > 0`);
 * - watch: more than 50 % of the provider pool is cooling down (the runbook calls that degraded once it lasts
 *   10 minutes; one snapshot cannot tell how long, so the console flags it early), or the shared circuit store
 *   is failing (calls fail open, circuits are not enforced);
 * - healthy: otherwise.
 * Pure (no DOM) so it is unit-tested in Node.
 */

export type RuntimeLevel = 'healthy' | 'watch' | 'critical';

export interface RuntimeHealthSummary {
  roleCount: number;
  providerCount: number;
  rolesBlocked: number;
  providersCoolingDown: number;
  providersReady: number;
  coolingDownShare: number;
  deterministicProviders: number;
  health: 'ok' | 'degraded';
}

export interface RuntimeHealthInput {
  summary: RuntimeHealthSummary;
  roleStates: { role: string; hasAvailableProvider: boolean }[];
  circuitStoreError?: string | null;
  circuitMirror?: 'live' | 'loading' | 'off' | null;
}

/** The runbook's cooling-down threshold: more than half the provider pool. */
export const COOLING_SHARE_THRESHOLD = 0.5;

export function runtimeLevel(health: RuntimeHealthInput): { level: RuntimeLevel; reasons: string[] } {
  const { summary } = health;
  const reasons: string[] = [];
  if (summary.health === 'degraded' || summary.rolesBlocked > 0) {
    const blocked = health.roleStates.filter((r) => !r.hasAvailableProvider).map((r) => r.role);
    reasons.push(
      `${summary.rolesBlocked} role${summary.rolesBlocked === 1 ? '' : 's'} blocked (${blocked.join(', ')}): no available provider`,
    );
  }
  const coolingHigh = summary.coolingDownShare > COOLING_SHARE_THRESHOLD;
  if (coolingHigh) {
    reasons.push(
      `${summary.providersCoolingDown} of ${summary.providerCount} providers cooling down (more than 50 % of the pool)`,
    );
  }
  if (health.circuitStoreError) reasons.push(`circuit store failing: ${health.circuitStoreError}`);
  if (reasons.length > 0 && (summary.health === 'degraded' || summary.rolesBlocked > 0))
    return { level: 'critical', reasons };
  if (reasons.length > 0) return { level: 'watch', reasons };
  const cooling = summary.providersCoolingDown;
  return {
    level: 'healthy',
    reasons: [
      cooling > 0
        ? `every role has an available provider; ${cooling} of ${summary.providerCount} cooling down`
        : 'every role has an available provider; no provider cooling down',
    ],
  };
}
