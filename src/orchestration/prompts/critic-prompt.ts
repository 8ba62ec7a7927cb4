import { type PromptContext, promptHead } from './prompt-context.js';

/** Critic: find what is wrong or weak in the draft, concretely. */
export function criticPrompt(ctx: PromptContext): string {
  return `Review this draft as a critic. List the concrete problems (accuracy, clarity, structure, tone against the guidance), most important first, each with a suggested fix.

${promptHead(ctx)}`;
}
