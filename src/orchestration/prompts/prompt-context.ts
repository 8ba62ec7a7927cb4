/** What every role prompt is built from (see docs/architecture.md, "Draft cycle prompts"). */
export interface PromptContext {
  title: string;
  body: string;
  /** Free-form guidance from the draft (persona, style, rules); strings verbatim, objects as JSON. */
  context: unknown;
  promptSeed: string | null;
  criticOutput?: string;
  makerOutput?: string;
}

export function guidanceText(context: unknown): string {
  if (context === null || context === undefined) return '';
  return typeof context === 'string' ? context : JSON.stringify(context, null, 2);
}

/** The shared head of every prompt: guidance and operator seed first, then the draft. */
export function promptHead(ctx: PromptContext): string {
  const parts: string[] = [];
  const guidance = guidanceText(ctx.context).trim();
  if (guidance) parts.push(`Guidance (follow it):\n${guidance}`);
  if (ctx.promptSeed?.trim()) parts.push(`Operator note: ${ctx.promptSeed.trim()}`);
  parts.push(`Draft title: ${ctx.title}\n\nDraft:\n${ctx.body}`);
  return parts.join('\n\n');
}
