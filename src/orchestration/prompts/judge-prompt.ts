import { type PromptContext, promptHead } from './prompt-context.js';

/** Judge: decide whether the revision replaces the draft; must end with a parseable verdict line. */
export function judgePrompt(ctx: PromptContext): string {
  return `Compare the revision with the original draft. Decide whether the revision should replace it.
Explain briefly, then end with one line exactly in this form:
verdict: <merge|reject> confidence: <0.00-1.00>

${promptHead(ctx)}

Critique:
${ctx.criticOutput ?? '(none)'}

Revision:
${ctx.makerOutput ?? '(none)'}`;
}
