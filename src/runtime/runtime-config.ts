import { ConfigError } from '../config/load-config.js';
import type { Config } from '../config/settings.js';
import { type ProviderKind, type ProviderMode, providerKinds } from '../providers/provider.js';
import { profileNamePattern, type Role, roles } from './roles.js';
import { type RuntimeConfigFile, readRuntimeConfigFile } from './runtime-config-file.js';

/** One auth profile of a provider, fully resolved (profile override → provider env → file). */
export interface AuthProfileDefinition {
  name: string;
  model: string;
  endpoint?: string;
  /** Secret. Never logged, never in an error or API payload. */
  apiKey?: string;
  mode: ProviderMode;
  /** Why a profile is deterministic (`AI_RUNTIME_USE_HTTP_ADAPTERS is not true`, `no endpoint`…), else null. */
  modeReason: string | null;
}

export interface ProviderDefinition {
  id: string;
  kind: ProviderKind;
  model: string;
  /** `live` only when every profile is live. */
  mode: ProviderMode;
  profiles: AuthProfileDefinition[];
}

export interface RuntimeSettings {
  cooldownMs: number;
  httpTimeoutMs: number;
  /** Connections per upstream origin (AI_RUNTIME_UPSTREAM_CONNECTIONS). */
  upstreamConnections: number;
  attemptTimeoutMs: number;
  runDeadlineMs: number;
  maxRetriesPerProvider: number;
  maxRetryWaitMs: number;
  useHttpAdapters: boolean;
  /** Streaming: first-token and silence limits (AI_RUNTIME_TTFT_TIMEOUT_MS, AI_RUNTIME_STREAM_IDLE_TIMEOUT_MS). */
  ttftTimeoutMs: number;
  streamIdleTimeoutMs: number;
}

export interface RuntimeDefinition {
  providers: ReadonlyMap<string, ProviderDefinition>;
  chains: Readonly<Record<Role, readonly string[]>>;
  settings: RuntimeSettings;
  /** AI_RUNTIME_DEFAULT_UPSTREAM as an `openai` provider whose model is the /v1 caller's; absent when unset. */
  defaultUpstream?: ProviderDefinition;
}

/** Provider id of AI_RUNTIME_DEFAULT_UPSTREAM in attempts and the `x-agw-provider` header. */
export const defaultUpstreamId = 'default-upstream';

function defaultUpstreamDefinition(config: Config): ProviderDefinition | undefined {
  if (!config.aiRuntimeDefaultUpstream) return undefined;
  const live = config.aiRuntimeUseHttpAdapters;
  return {
    id: defaultUpstreamId,
    kind: 'openai',
    model: 'deterministic',
    mode: live ? 'live' : 'deterministic',
    profiles: [
      {
        name: 'default',
        model: 'deterministic',
        endpoint: config.aiRuntimeDefaultUpstream,
        ...(config.aiRuntimeDefaultUpstreamApiKey ? { apiKey: config.aiRuntimeDefaultUpstreamApiKey } : {}),
        mode: live ? 'live' : 'deterministic',
        modeReason: live ? null : 'AI_RUNTIME_USE_HTTP_ADAPTERS is not true',
      },
    ],
  };
}

/** Chain of every role when nothing is configured: two deterministic providers, so failover works offline. */
export const defaultChain = ['local-primary', 'local-fallback'] as const;

/** Per-provider variable fields: `AI_RUNTIME_<PROVIDER>_<FIELD>[__<PROFILE>]`. */
export const providerEnvFields = ['KIND', 'ENDPOINT', 'API_KEY', 'MODEL', 'AUTH_PROFILES'] as const;
type Field = (typeof providerEnvFields)[number];
const profileFields = new Set<Field>(['ENDPOINT', 'API_KEY', 'MODEL']);
const envNamePattern = new RegExp(
  `^AI_RUNTIME_([A-Z0-9_]+?)_(${providerEnvFields.join('|')})(?:__([A-Z0-9_]+))?$`,
);

/** `<PROVIDER>` in variable names: the id uppercased with every non-alphanumeric as `_`. */
export function providerEnvKey(id: string): string {
  return id.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

const chainSettings: Record<Role, keyof Config> = {
  author: 'aiAuthorModelChain',
  critic: 'aiCriticModelChain',
  maker: 'aiMakerModelChain',
  judge: 'aiJudgeModelChain',
};

interface EnvProvider {
  fields: Partial<Record<Field, string>>;
  profiles: Map<string, { fields: Partial<Record<Field, string>>; variable: string }>;
}

function groupEnv(env: Readonly<Record<string, string>>, problems: string[]): Map<string, EnvProvider> {
  const byKey = new Map<string, EnvProvider>();
  for (const [name, value] of Object.entries(env)) {
    const match = envNamePattern.exec(name);
    if (!match) {
      problems.push(
        `${name} is not an AI runtime variable (expected AI_RUNTIME_<PROVIDER>_<${providerEnvFields.join('|')}>)`,
      );
      continue;
    }
    const [, key, field, profile] = match as unknown as [string, string, Field, string | undefined];
    const entry: EnvProvider = byKey.get(key) ?? { fields: {}, profiles: new Map() };
    byKey.set(key, entry);
    if (profile === undefined) {
      entry.fields[field] = value.trim();
    } else if (!profileFields.has(field)) {
      problems.push(`${name}: only ENDPOINT, API_KEY and MODEL can be set per profile`);
    } else {
      const p = entry.profiles.get(profile.toLowerCase()) ?? { fields: {}, variable: name };
      p.fields[field] = value.trim();
      entry.profiles.set(profile.toLowerCase(), p);
    }
  }
  return byKey;
}

function checkEndpoint(endpoint: string | undefined, where: string, problems: string[]): string | undefined {
  if (endpoint === undefined) return undefined;
  try {
    const url = new URL(endpoint);
    if (url.protocol === 'http:' || url.protocol === 'https:') return endpoint;
  } catch {
    // reported below
  }
  problems.push(`${where} must be an http(s) URL`);
  return undefined;
}

/**
 * Builds provider definitions and role chains from the static settings, the per-provider env variables and the
 * optional AI_RUNTIME_CONFIG file (env wins). Throws ConfigError listing every problem, naming each variable.
 */
export function loadRuntimeDefinition(config: Config): RuntimeDefinition {
  const problems: string[] = [];
  const file: RuntimeConfigFile = config.aiRuntimeConfig
    ? readRuntimeConfigFile(config.aiRuntimeConfig, problems)
    : {};
  const env = groupEnv(config.aiRuntimeEnv, problems);

  const chains = {} as Record<Role, string[]>;
  for (const role of roles) {
    const fromEnv = config[chainSettings[role]] as string[] | undefined;
    if (fromEnv !== undefined && fromEnv.length === 0)
      problems.push(`AI_${role.toUpperCase()}_MODEL_CHAIN is empty`);
    chains[role] = fromEnv?.length ? fromEnv : (file.chains?.[role] ?? [...defaultChain]);
  }

  const ids = new Set<string>([...Object.values(chains).flat(), ...Object.keys(file.providers ?? {})]);
  const keyToId = new Map<string, string>();
  for (const id of ids) keyToId.set(providerEnvKey(id), id);
  for (const key of env.keys()) {
    if (!keyToId.has(key)) {
      const id = key.toLowerCase();
      keyToId.set(key, id);
      ids.add(id);
    }
  }

  const providers = new Map<string, ProviderDefinition>();
  for (const id of ids) {
    const key = providerEnvKey(id);
    const fromEnv: EnvProvider = env.get(key) ?? { fields: {}, profiles: new Map() };
    const fromFile = file.providers?.[id] ?? {};
    const v = (field: Field) => `AI_RUNTIME_${key}_${field}`;

    let kind: ProviderKind;
    const rawKind = fromEnv.fields.KIND?.toLowerCase();
    if (rawKind !== undefined && !(providerKinds as readonly string[]).includes(rawKind)) {
      problems.push(`${v('KIND')} must be one of ${providerKinds.join(', ')}`);
      kind = 'deterministic';
    } else {
      const endpointGiven = fromEnv.fields.ENDPOINT ?? fromFile.endpoint;
      kind =
        (rawKind as ProviderKind | undefined) ?? fromFile.kind ?? (endpointGiven ? 'http' : 'deterministic');
    }

    let profileNames: string[] = ['default'];
    const fileProfiles = fromFile.authProfiles;
    const fileOverrides = fileProfiles && !Array.isArray(fileProfiles) ? fileProfiles : {};
    if (fromEnv.fields.AUTH_PROFILES !== undefined) {
      const names = [
        ...new Set(
          fromEnv.fields.AUTH_PROFILES.split(',')
            .map((p) => p.trim().toLowerCase())
            .filter(Boolean),
        ),
      ];
      const bad = names.filter((n) => !profileNamePattern.test(n));
      if (names.length === 0 || bad.length > 0)
        problems.push(`${v('AUTH_PROFILES')} must be a comma list of ${profileNamePattern.source}`);
      else profileNames = names;
    } else if (fileProfiles) {
      profileNames = Array.isArray(fileProfiles) ? [...new Set(fileProfiles)] : Object.keys(fileProfiles);
    }
    for (const [profile, p] of fromEnv.profiles) {
      if (!profileNames.includes(profile))
        problems.push(`${p.variable} names profile "${profile}", which is not in ${v('AUTH_PROFILES')}`);
    }

    const baseModel = fromEnv.fields.MODEL ?? fromFile.model;
    const profiles: AuthProfileDefinition[] = profileNames.map((name) => {
      const envProfile = fromEnv.profiles.get(name)?.fields ?? {};
      const fileProfile = fileOverrides[name] ?? {};
      const suffix = `__${name.toUpperCase()}`;
      const endpoint = checkEndpoint(
        envProfile.ENDPOINT ?? fileProfile.endpoint ?? fromEnv.fields.ENDPOINT ?? fromFile.endpoint,
        envProfile.ENDPOINT
          ? `${v('ENDPOINT')}${suffix}`
          : fromEnv.fields.ENDPOINT
            ? v('ENDPOINT')
            : `AI_RUNTIME_CONFIG providers.${id}.endpoint`,
        problems,
      );
      const apiKey = envProfile.API_KEY ?? fileProfile.apiKey ?? fromEnv.fields.API_KEY ?? fromFile.apiKey;
      const model =
        envProfile.MODEL ??
        fileProfile.model ??
        baseModel ??
        (kind === 'deterministic' ? 'deterministic' : '');
      if (kind !== 'deterministic' && endpoint && !model)
        problems.push(`${v('MODEL')} is required for a ${kind} provider with an endpoint`);
      let modeReason: string | null = null;
      if (kind === 'deterministic') modeReason = 'kind is deterministic';
      else if (!config.aiRuntimeUseHttpAdapters) modeReason = 'AI_RUNTIME_USE_HTTP_ADAPTERS is not true';
      else if (!endpoint) modeReason = `${v('ENDPOINT')} is not set`;
      else if (!apiKey && kind !== 'http') modeReason = `${v('API_KEY')} is not set`;
      return {
        name,
        model: model || 'deterministic',
        ...(endpoint ? { endpoint } : {}),
        ...(apiKey ? { apiKey } : {}),
        mode: modeReason ? 'deterministic' : 'live',
        modeReason,
      };
    });
    providers.set(id, {
      id,
      kind,
      model: profiles[0]?.model ?? 'deterministic',
      mode: profiles.every((p) => p.mode === 'live') ? 'live' : 'deterministic',
      profiles,
    });
  }

  if (problems.length > 0) throw new ConfigError(problems);
  const defaultUpstream = defaultUpstreamDefinition(config);
  return {
    providers,
    chains,
    ...(defaultUpstream ? { defaultUpstream } : {}),
    settings: {
      cooldownMs: config.aiProviderCooldownMs,
      httpTimeoutMs: config.aiRuntimeHttpTimeoutMs,
      upstreamConnections: config.aiRuntimeUpstreamConnections,
      attemptTimeoutMs: config.aiRuntimeAttemptTimeoutMs,
      runDeadlineMs: config.aiRuntimeRunDeadlineMs,
      maxRetriesPerProvider: config.aiRuntimeMaxRetriesPerProvider,
      maxRetryWaitMs: config.aiRuntimeMaxRetryWaitMs,
      useHttpAdapters: config.aiRuntimeUseHttpAdapters,
      ttftTimeoutMs: config.aiRuntimeTtftTimeoutMs,
      streamIdleTimeoutMs: config.aiRuntimeStreamIdleTimeoutMs,
    },
  };
}
