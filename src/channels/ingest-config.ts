import type { ConnectorPolicy, ConnectorProfile } from '../config/ingest-settings.js';
import type { Config } from '../config/settings.js';
import type { IngestLimits } from './connector-rules.js';
import type { SecretSources } from './ingest-signature.js';

export interface IngestSettings {
  profiles: Readonly<Record<string, ConnectorProfile>>;
  policies: Readonly<Record<string, ConnectorPolicy>>;
  secrets: SecretSources;
  allowedConnectors: readonly string[];
  enforceProfile: boolean;
  maxSkewSec: number;
  limits: IngestLimits;
  /** Connector ids configured anywhere (native connectors included): the only labels an unauthenticated reject gets. */
  knownConnectors: ReadonlySet<string>;
}

/** The pipeline's view of the configuration: every connector id named anywhere is a "known" counter label. */
export function ingestSettingsFromConfig(config: Config): IngestSettings {
  const knownConnectors = new Set([
    ...Object.keys(config.ingestConnectorProfiles),
    ...Object.keys(config.ingestConnectorPolicies),
    ...Object.keys(config.ingestConnectorSecrets),
    ...Object.keys(config.channelConnectors),
    ...config.ingestAllowedConnectors,
  ]);
  return {
    profiles: config.ingestConnectorProfiles,
    policies: config.ingestConnectorPolicies,
    secrets: {
      connectorSecrets: config.ingestConnectorSecrets,
      globalSecret: config.webhookSecret,
      previousSecrets: config.webhookSecretPrevious,
    },
    allowedConnectors: config.ingestAllowedConnectors,
    enforceProfile: config.ingestEnforceConnectorProfile,
    maxSkewSec: config.ingestMaxTimestampSkewSec,
    limits: {
      rateLimitMax: config.ingestRateLimitMax,
      rateLimitWindowSec: config.ingestRateLimitWindowSec,
      maxPayloadBytes: config.ingestMaxPayloadBytes,
      maxPayloadKeys: config.ingestMaxPayloadKeys,
      maxMetadataKeys: config.ingestMaxMetadataKeys,
      requireConnectorSecret: config.ingestRequireConnectorSecret,
    },
    knownConnectors,
  };
}
