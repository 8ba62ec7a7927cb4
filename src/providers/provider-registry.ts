import { AnthropicAdapter } from './anthropic/anthropic-adapter.js';
import { DeterministicAdapter, type DeterministicScript } from './deterministic/deterministic-adapter.js';
import { GeminiAdapter } from './gemini/gemini-adapter.js';
import { HttpAdapter } from './http/http-adapter.js';
import { OpenAiAdapter } from './openai/openai-adapter.js';
import type { CallSignal, ProviderAdapter, ProviderKind } from './provider.js';
import type { UpstreamClient } from './upstream-client.js';

export interface ProviderRegistryOptions {
  client: UpstreamClient;
  sleep: (ms: number, signal?: CallSignal) => Promise<void>;
  deterministicScripts?: ReadonlyMap<string, DeterministicScript>;
}

/** The one place that knows every provider kind: kind → adapter. */
export function createProviderRegistry(
  options: ProviderRegistryOptions,
): Record<ProviderKind, ProviderAdapter> {
  return {
    openai: new OpenAiAdapter(options.client),
    anthropic: new AnthropicAdapter(options.client),
    gemini: new GeminiAdapter(options.client),
    http: new HttpAdapter(options.client),
    deterministic: new DeterministicAdapter(options.sleep, options.deterministicScripts),
  };
}
