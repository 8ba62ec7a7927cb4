import { loadConfig } from '../../src/config/load-config.js';
import type { DeterministicScript } from '../../src/providers/deterministic/deterministic-adapter.js';
import { AiRuntime, type AiRuntimeOptions } from '../../src/runtime/ai-runtime.js';
import type { CircuitStore } from '../../src/runtime/circuit-store.js';
import { loadRuntimeDefinition, type RuntimeDefinition } from '../../src/runtime/runtime-config.js';
import { FakeClock } from './fake-clock.js';

/** A runtime definition from an env map, exactly as the gateway would load it. */
export function definitionFrom(env: Record<string, string> = {}): RuntimeDefinition {
  return loadRuntimeDefinition(loadConfig(env));
}

/** A runtime on virtual time with optional deterministic scripts and a chosen circuit store. */
export function testRuntime(
  env: Record<string, string> = {},
  options: {
    scripts?: Record<string, DeterministicScript>;
    store?: CircuitStore;
    clock?: FakeClock;
    extra?: Partial<AiRuntimeOptions>;
  } = {},
) {
  const clock = options.clock ?? new FakeClock();
  const runtime = new AiRuntime({
    definition: definitionFrom(env),
    clock,
    random: () => 0.5,
    deterministicScripts: new Map(Object.entries(options.scripts ?? {})),
    ...(options.store ? { circuitStore: options.store } : {}),
    ...options.extra,
  });
  return { runtime, clock };
}
