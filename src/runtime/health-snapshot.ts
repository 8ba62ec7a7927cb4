import type { ProviderKind, ProviderMode } from '../providers/provider.js';
import type { CircuitBreaker, CircuitView } from './circuit-breaker.js';
import type { CircuitPhase } from './circuit-store.js';
import { type Role, roles } from './roles.js';
import type { RuntimeDefinition } from './runtime-config.js';

export interface ProfileState {
  profile: string;
  mode: ProviderMode;
  model: string;
  cooldownUntil: string | null;
  coolingDown: boolean;
  circuit: CircuitPhase;
  openedAt: string | null;
  failureCount: number;
  lastFailureCode: string | null;
  reason: string | null;
}

/** SPEC §4 ProviderState (plus `modeReason` and per-profile mode). Never any key material. */
export interface ProviderState {
  provider: string;
  kind: ProviderKind;
  mode: ProviderMode;
  modeReason: string | null;
  model: string;
  cooldownUntil: string | null;
  coolingDown: boolean;
  circuit: CircuitPhase;
  activeProfile: string | null;
  lastFailureCode: string | null;
  reason: string | null;
  profiles: ProfileState[];
}

/** Reads every circuit of the given providers in one store round trip. */
export async function providerStates(
  definition: RuntimeDefinition,
  breaker: CircuitBreaker,
  ids: readonly string[] = [...definition.providers.keys()],
): Promise<ProviderState[]> {
  const providers = ids.flatMap((id) => definition.providers.get(id) ?? []);
  const keys = providers.flatMap((p) => p.profiles.map((profile) => `${p.id}@${profile.name}`));
  const views = await breaker.views(keys);
  let index = 0;
  return providers.map((provider) => {
    const profiles = provider.profiles.map((profile) => {
      const view = views[index++] as CircuitView;
      return {
        profile: profile.name,
        mode: profile.mode,
        model: provider.kind === 'deterministic' || profile.mode === 'live' ? profile.model : 'deterministic',
        cooldownUntil: view.cooldownUntil,
        coolingDown: view.coolingDown,
        circuit: view.circuit,
        openedAt: view.openedAt,
        failureCount: view.failureCount,
        lastFailureCode: view.lastFailureCode,
        reason: view.reason,
      };
    });
    const active = profiles.find((p) => !p.coolingDown) ?? null;
    const coolingDown = active === null;
    const failing =
      profiles.find((p) => p.lastFailureCode !== null && p.circuit !== 'closed') ??
      profiles.find((p) => p.lastFailureCode !== null);
    const until = profiles
      .map((p) => p.cooldownUntil)
      .filter((u): u is string => u !== null)
      .sort();
    return {
      provider: provider.id,
      kind: provider.kind,
      mode: provider.mode,
      modeReason: provider.profiles.find((p) => p.modeReason)?.modeReason ?? null,
      model: (active ?? profiles[0])?.model ?? provider.model,
      cooldownUntil: coolingDown ? (until[0] ?? null) : null,
      coolingDown,
      circuit: active ? active.circuit : 'open',
      activeProfile: active?.profile ?? null,
      lastFailureCode: failing?.lastFailureCode ?? null,
      reason: failing?.reason ?? null,
      profiles,
    };
  });
}

export interface RoleState {
  role: Role;
  providers: string[];
  availableProviders: string[];
  blockedProviders: string[];
  hasAvailableProvider: boolean;
}

/** The body of GET /api/admin/ai-runtime/health: degraded iff some role has no available provider. */
export function healthSnapshot(definition: RuntimeDefinition, states: ProviderState[], now: number) {
  const byId = new Map(states.map((s) => [s.provider, s]));
  const roleStates: RoleState[] = roles.map((role) => {
    const providers = [...definition.chains[role]];
    const availableProviders = providers.filter((id) => byId.get(id)?.coolingDown === false);
    return {
      role,
      providers,
      availableProviders,
      blockedProviders: providers.filter((id) => !availableProviders.includes(id)),
      hasAvailableProvider: availableProviders.length > 0,
    };
  });
  const providerCount = states.length;
  const providersCoolingDown = states.filter((s) => s.coolingDown).length;
  const rolesBlocked = roleStates.filter((r) => !r.hasAvailableProvider).length;
  return {
    generatedAt: new Date(now).toISOString(),
    roleStates,
    providers: states,
    summary: {
      roleCount: roles.length,
      providerCount,
      rolesBlocked,
      providersCoolingDown,
      providersReady: providerCount - providersCoolingDown,
      coolingDownShare:
        providerCount === 0 ? 0 : Math.round((providersCoolingDown / providerCount) * 1000) / 1000,
      deterministicProviders: states.filter((s) => s.mode === 'deterministic').length,
      health: rolesBlocked > 0 ? ('degraded' as const) : ('ok' as const),
    },
  };
}
