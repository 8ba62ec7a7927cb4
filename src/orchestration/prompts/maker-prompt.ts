import { type PromptContext, promptHead } from './prompt-context.js';

/** Maker: rewrite the draft addressing the critique; the output is the full revised text. */
export function makerPrompt(ctx: PromptContext): string {
  return `Revise this draft. Address every point of the critique that is right, keep what works, and return only the full revised draft text.

${promptHead(ctx)}

Critique:
${ctx.criticOutput ?? '(none)'}`;
}
