/**
 * Validators for the ingest settings whose values are JSON maps keyed by connector id. Each throws an Error whose
 * message names the connector (loadConfig prefixes the variable name), so a bad deployment refuses to start with
 * a message an operator can act on. Values never echo secrets.
 */

export const ingestAdapters = ['web', 'live_session', 'external_webhook'] as const;
export type IngestAdapter = (typeof ingestAdapters)[number];

export const connectorIdPattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const channelPattern = /^[a-z0-9][a-z0-9._:-]{1,63}$/;
const rolePattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const typePattern = /^[a-z0-9][a-z0-9._:-]{0,119}$/;
const keyIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Defaults a connector's requests get when they omit a field (explicit body values win). */
export interface ConnectorProfile {
  adapter?: IngestAdapter;
  channel?: string;
  fromRole?: string;
  toRole?: string;
  type?: string;
}
export const profileFields = ['adapter', 'channel', 'fromRole', 'toRole', 'type'] as const;

export type RiskLevel = 'restricted' | 'standard' | 'trusted';

/** Per-connector tightening of the ingest defaults. */
export interface ConnectorPolicy {
  riskLevel: RiskLevel;
  rateLimitMax?: number;
  requireConnectorSecret?: boolean;
  maxPayloadKeys?: number;
  maxMetadataKeys?: number;
  maxPayloadBytes?: number;
}

/** A connector's signing secrets: `keyId` is set when the operator named them (rotation by key id). */
export interface ConnectorSecret {
  keyId: string | null;
  secret: string;
}

export type Platform = 'telegram' | 'slack' | 'discord';

/** A native platform connector: how to verify its webhooks and how to reply through its API. */
export interface ChannelConnector {
  platform: Platform;
  /** Telegram `secret_token`, Slack signing secret; Discord uses `publicKey`. */
  secret?: string;
  /** Discord application public key (64 hex characters). */
  publicKey?: string;
  /** Bot token for outbound replies; without it the connector only receives. */
  botToken?: string;
  apiBaseUrl: string;
}

export const defaultApiBaseUrls: Record<Platform, string> = {
  telegram: 'https://api.telegram.org',
  slack: 'https://slack.com/api',
  discord: 'https://discord.com/api/v10',
};

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function connectorKey(raw: string): string {
  const id = raw.trim().toLowerCase();
  if (!connectorIdPattern.test(id))
    throw new Error(`connector "${raw.trim()}": id must match ${connectorIdPattern}`);
  return id;
}

function expectKeys(where: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw new Error(`${where}: unknown field(s) ${unknown.join(', ')}`);
}

function idField(where: string, field: string, value: unknown, pattern: RegExp): string {
  if (typeof value !== 'string' || !pattern.test(value.trim().toLowerCase()))
    throw new Error(`${where}: ${field} must match ${pattern}`);
  return value.trim().toLowerCase();
}

/** `AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES`: connector → profile object, or a bare channel string. */
export function parseConnectorProfiles(value: unknown): Record<string, ConnectorProfile> {
  if (!isObject(value))
    throw new Error('must be a JSON object: { "<connectorId>": { channel, … } | "<channel>" }');
  const out: Record<string, ConnectorProfile> = {};
  for (const [rawId, entry] of Object.entries(value)) {
    const id = connectorKey(rawId);
    const where = `connector "${id}"`;
    if (typeof entry === 'string') {
      out[id] = { channel: idField(where, 'channel', entry, channelPattern) };
      continue;
    }
    if (!isObject(entry)) throw new Error(`${where}: profile must be an object or a channel string`);
    expectKeys(where, entry, profileFields);
    const profile: ConnectorProfile = {};
    if (entry.adapter !== undefined) {
      if (!ingestAdapters.includes(entry.adapter as IngestAdapter))
        throw new Error(
          `${where}: unknown adapter "${String(entry.adapter)}" (${ingestAdapters.join(', ')})`,
        );
      profile.adapter = entry.adapter as IngestAdapter;
    }
    if (entry.channel !== undefined)
      profile.channel = idField(where, 'channel', entry.channel, channelPattern);
    if (entry.fromRole !== undefined)
      profile.fromRole = idField(where, 'fromRole', entry.fromRole, rolePattern);
    if (entry.toRole !== undefined) profile.toRole = idField(where, 'toRole', entry.toRole, rolePattern);
    if (entry.type !== undefined) profile.type = idField(where, 'type', entry.type, typePattern);
    if (Object.keys(profile).length === 0) throw new Error(`${where}: profile is empty`);
    if (profile.fromRole === 'system') throw new Error(`${where}: fromRole "system" is reserved`);
    out[id] = profile;
  }
  return Object.freeze(out);
}

const policyKeys = [
  'riskLevel',
  'rateLimitMax',
  'requireConnectorSecret',
  'maxPayloadKeys',
  'maxMetadataKeys',
  'maxPayloadBytes',
] as const;

function positiveInt(where: string, field: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max)
    throw new Error(`${where}: ${field} must be an integer from 1 to ${max}`);
  return value;
}

/** `AGENT_GATEWAY_INGEST_CONNECTOR_POLICIES`: connector → policy. Values only tighten the global defaults. */
export function parseConnectorPolicies(value: unknown): Record<string, ConnectorPolicy> {
  if (!isObject(value)) throw new Error('must be a JSON object: { "<connectorId>": { riskLevel, … } }');
  const out: Record<string, ConnectorPolicy> = {};
  for (const [rawId, entry] of Object.entries(value)) {
    const id = connectorKey(rawId);
    const where = `connector "${id}"`;
    if (!isObject(entry)) throw new Error(`${where}: policy must be an object`);
    expectKeys(where, entry, policyKeys);
    const riskLevel = entry.riskLevel ?? 'standard';
    if (!['restricted', 'standard', 'trusted'].includes(riskLevel as string))
      throw new Error(`${where}: riskLevel must be restricted, standard or trusted`);
    const policy: ConnectorPolicy = { riskLevel: riskLevel as RiskLevel };
    if (entry.rateLimitMax !== undefined)
      policy.rateLimitMax = positiveInt(where, 'rateLimitMax', entry.rateLimitMax, 1_000_000);
    if (entry.requireConnectorSecret !== undefined) {
      if (typeof entry.requireConnectorSecret !== 'boolean')
        throw new Error(`${where}: requireConnectorSecret must be true or false`);
      policy.requireConnectorSecret = entry.requireConnectorSecret;
    }
    if (entry.maxPayloadKeys !== undefined)
      policy.maxPayloadKeys = positiveInt(where, 'maxPayloadKeys', entry.maxPayloadKeys, 10_000);
    if (entry.maxMetadataKeys !== undefined)
      policy.maxMetadataKeys = positiveInt(where, 'maxMetadataKeys', entry.maxMetadataKeys, 10_000);
    if (entry.maxPayloadBytes !== undefined)
      policy.maxPayloadBytes = positiveInt(where, 'maxPayloadBytes', entry.maxPayloadBytes, 64 * 1024 * 1024);
    out[id] = policy;
  }
  return Object.freeze(out);
}

function secretValue(where: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim().length < 16)
    throw new Error(`${where}: a secret must be a string of at least 16 characters`);
  return value.trim();
}

/**
 * `AGENT_GATEWAY_INGEST_CONNECTOR_SECRETS`: connector → secret | [secrets] | { keyId: secret }. Several secrets
 * are accepted at once (rotation); with key ids a request's `x-gateway-key-id` picks one.
 */
export function parseConnectorSecrets(value: unknown): Record<string, ConnectorSecret[]> {
  if (!isObject(value))
    throw new Error('must be a JSON object: { "<connectorId>": "<secret>" | [...] | { keyId: secret } }');
  const out: Record<string, ConnectorSecret[]> = {};
  for (const [rawId, entry] of Object.entries(value)) {
    const id = connectorKey(rawId);
    const where = `connector "${id}"`;
    let secrets: ConnectorSecret[];
    if (typeof entry === 'string') secrets = [{ keyId: null, secret: secretValue(where, entry) }];
    else if (Array.isArray(entry))
      secrets = entry.map((s) => ({ keyId: null, secret: secretValue(where, s) }));
    else if (isObject(entry)) {
      secrets = Object.entries(entry).map(([keyId, s]) => {
        if (!keyIdPattern.test(keyId))
          throw new Error(`${where}: key id "${keyId}" must match ${keyIdPattern}`);
        return { keyId, secret: secretValue(`${where} key "${keyId}"`, s) };
      });
    } else throw new Error(`${where}: must be a secret string, a list of secrets or { keyId: secret }`);
    if (secrets.length === 0) throw new Error(`${where}: no secret given`);
    out[id] = secrets;
  }
  return Object.freeze(out);
}

/** `AGENT_GATEWAY_INGEST_ALLOWED_CONNECTORS`: comma-separated connector ids. */
export function parseAllowedConnectors(raw: string): string[] {
  const out: string[] = [];
  for (const part of raw.split(',')) {
    if (part.trim() === '') continue;
    const id = connectorKey(part);
    if (!out.includes(id)) out.push(id);
  }
  return out;
}

/** `AGENT_GATEWAY_WEBHOOK_SECRET_PREVIOUS`: comma-separated previous global secrets, still accepted. */
export function parseSecretList(raw: string): string[] {
  return raw
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((s, index) => secretValue(`secret ${index + 1}`, s));
}

const channelConnectorKeys = ['platform', 'secret', 'publicKey', 'botToken', 'apiBaseUrl'] as const;

/**
 * `AGENT_GATEWAY_CHANNEL_CONNECTORS`: connector → { platform, secret | publicKey, botToken?, apiBaseUrl? } for the
 * native Telegram / Slack / Discord webhooks and replies.
 */
export function parseChannelConnectors(value: unknown): Record<string, ChannelConnector> {
  if (!isObject(value)) throw new Error('must be a JSON object: { "<connectorId>": { platform, … } }');
  const out: Record<string, ChannelConnector> = {};
  for (const [rawId, entry] of Object.entries(value)) {
    const id = connectorKey(rawId);
    const where = `connector "${id}"`;
    if (!isObject(entry)) throw new Error(`${where}: must be an object`);
    expectKeys(where, entry, channelConnectorKeys);
    const platform = entry.platform;
    if (platform !== 'telegram' && platform !== 'slack' && platform !== 'discord')
      throw new Error(`${where}: platform must be telegram, slack or discord`);
    const connector: ChannelConnector = { platform, apiBaseUrl: defaultApiBaseUrls[platform] };
    if (platform === 'discord') {
      if (typeof entry.publicKey !== 'string' || !/^[0-9a-f]{64}$/i.test(entry.publicKey.trim()))
        throw new Error(`${where}: publicKey must be the application's 64-hex-character Ed25519 public key`);
      connector.publicKey = entry.publicKey.trim().toLowerCase();
      if (entry.secret !== undefined) throw new Error(`${where}: discord uses publicKey, not secret`);
    } else {
      if (typeof entry.secret !== 'string' || entry.secret.trim().length < 8)
        throw new Error(
          `${where}: secret (${platform === 'telegram' ? 'the webhook secret_token' : 'the signing secret'}) must be at least 8 characters`,
        );
      if (platform === 'telegram' && !/^[A-Za-z0-9_-]{1,256}$/.test(entry.secret.trim()))
        throw new Error(`${where}: a Telegram secret_token may only use A-Z, a-z, 0-9, _ and -`);
      connector.secret = entry.secret.trim();
    }
    if (entry.botToken !== undefined) {
      if (typeof entry.botToken !== 'string' || entry.botToken.trim() === '')
        throw new Error(`${where}: botToken must be a non-empty string`);
      connector.botToken = entry.botToken.trim();
    }
    if (entry.apiBaseUrl !== undefined) {
      let url: URL;
      try {
        url = new URL(String(entry.apiBaseUrl));
      } catch {
        throw new Error(`${where}: apiBaseUrl must be a URL`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new Error(`${where}: apiBaseUrl must use http or https`);
      connector.apiBaseUrl = url.toString().replace(/\/+$/, '');
    }
    out[id] = connector;
  }
  return Object.freeze(out);
}
