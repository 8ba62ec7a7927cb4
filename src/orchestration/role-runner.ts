/** What orchestration and replies need from the AI runtime (AiRuntime satisfies it). */
export interface RoleRunResultLike {
  failed: boolean;
  selectedProvider: string | null;
  selectedAuthProfile?: string | null;
  selectedModel: string | null;
  mode?: string | null;
  output: string | null;
  usage: unknown;
  latencyMs: number;
  attempts: unknown[];
}

export interface RoleRunner {
  runRole(request: {
    role: 'author' | 'critic' | 'maker' | 'judge';
    prompt: string;
  }): Promise<RoleRunResultLike>;
}

/** The step event payload (SPEC §6): the full runtime result that matters to an operator. */
export function stepPayload(runId: string, stepIndex: number, result: RoleRunResultLike) {
  return {
    runId,
    step: stepIndex + 1,
    failed: result.failed,
    selectedProvider: result.selectedProvider,
    selectedAuthProfile: result.selectedAuthProfile ?? null,
    selectedModel: result.selectedModel,
    mode: result.mode ?? null,
    attempts: result.attempts,
    output: result.output,
    usage: result.usage,
    latencyMs: result.latencyMs,
  };
}
