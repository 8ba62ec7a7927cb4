/** The timeline of a completed draft cycle, in order (what every cycle test and chaos script expects). */
export const COMPLETED_CYCLE_EVENT_TYPES = [
  'draft_cycle_started',
  'draft_cycle_critic_completed',
  'draft_cycle_maker_completed',
  'draft_cycle_judge_completed',
  'draft_cycle_completed',
  'session_closed',
] as const;
