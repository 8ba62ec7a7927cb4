/** The four runtime roles, in the order every payload lists them. */
export const roles = ['author', 'critic', 'maker', 'judge'] as const;
export type Role = (typeof roles)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (roles as readonly string[]).includes(value);
}

/** Provider ids: `^[a-z0-9][a-z0-9._-]{0,63}$` (SPEC §4). */
export const providerIdPattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Auth profile names (used in env suffixes `__<PROFILE>` and in `provider@profile`). */
export const profileNamePattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;
