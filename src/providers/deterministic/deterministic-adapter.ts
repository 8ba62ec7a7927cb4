import type { Role } from '../../runtime/roles.js';
import {
  type CallSignal,
  type ProviderAdapter,
  type ProviderCall,
  type ProviderErrorCode,
  ProviderFailure,
  type ProviderReply,
  type ProviderTarget,
} from '../provider.js';

const prefixes: Record<Role, string> = {
  author: 'Draft',
  critic: 'Critique',
  maker: 'Revision',
  judge: 'Verdict',
};

/** Scripted behaviour for tests and benchmarks, keyed by `provider` or `provider@profile`. */
export interface DeterministicScript {
  latencyMs?: number;
  /** Fail with this code (after the latency); `failTimes` limits it to the first N calls. */
  failCode?: ProviderErrorCode;
  failTimes?: number;
  httpStatus?: number;
  retryAfterMs?: number;
}

const retryableCodes = new Set<ProviderErrorCode>([
  'AI_PROVIDER_HTTP_ERROR',
  'AI_PROVIDER_UNAVAILABLE',
  'AI_PROVIDER_RATE_LIMITED',
]);

/** `[<provider>@<profile>] <Prefix>: <prompt on one line, ≤ 240 chars>`; the judge adds a parseable verdict. */
export function deterministicOutput(provider: string, profile: string, role: string, prompt: string): string {
  const prefix = prefixes[role as Role] ?? 'Answer';
  const line = prompt.replace(/\s+/g, ' ').trim().slice(0, 240);
  const text = `[${provider}@${profile}] ${prefix}: ${line}`;
  return role === 'judge' ? `${text}\nverdict: merge confidence: 0.80` : text;
}

/** Built-in offline provider: answers from the prompt, never pretends to be a model (mode is `deterministic`). */
export class DeterministicAdapter implements ProviderAdapter {
  readonly kind = 'deterministic' as const;
  private readonly calls = new Map<string, number>();

  constructor(
    private readonly sleep: (ms: number, signal?: CallSignal) => Promise<void>,
    private readonly scripts: ReadonlyMap<string, DeterministicScript> = new Map(),
  ) {}

  async complete(target: ProviderTarget, call: ProviderCall): Promise<ProviderReply> {
    const key = `${target.provider}@${target.profile}`;
    const script = this.scripts.get(key) ?? this.scripts.get(target.provider);
    const count = (this.calls.get(key) ?? 0) + 1;
    if (script) this.calls.set(key, count);
    if (script?.latencyMs) await this.sleep(script.latencyMs, call.signal);
    if (script?.failCode && (script.failTimes === undefined || count <= script.failTimes)) {
      throw new ProviderFailure({
        code: script.failCode,
        retryable: retryableCodes.has(script.failCode),
        httpStatus: script.httpStatus ?? null,
        retryAfterMs: script.retryAfterMs ?? null,
        message: `${target.provider} scripted failure ${script.failCode}`,
      });
    }
    const prompt = [...call.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const output = deterministicOutput(target.provider, target.profile, call.role, prompt);
    const inputChars = call.messages.reduce((n, m) => n + m.content.length, 0);
    return {
      output,
      model: target.model,
      usage: { inputTokens: Math.ceil(inputChars / 4), outputTokens: Math.ceil(output.length / 4) },
    };
  }
}
