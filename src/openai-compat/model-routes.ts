import { AppError } from '../errors/app-error.js';
import type { RunRoute } from '../runtime/chain-plan.js';
import { isRole, type Role, roles } from '../runtime/roles.js';
import type { RuntimeDefinition } from '../runtime/runtime-config.js';

/** Where a `/v1` call goes: the routes in order and the role the primary model named (null for other names). */
export interface ModelRoutes {
  role: Role | null;
  routes: RunRoute[];
}

function routesOf(
  definition: RuntimeDefinition,
  name: string,
  param: string,
): { role: Role | null; routes: RunRoute[] } {
  const lower = name.toLowerCase();
  const roleName = lower.startsWith('role:') ? lower.slice(5) : lower;
  if (isRole(roleName)) {
    const routes = definition.chains[roleName].flatMap((id) => {
      const provider = definition.providers.get(id);
      return provider ? [{ provider }] : [];
    });
    return { role: roleName, routes };
  }
  if (lower.startsWith('role:')) {
    throw new AppError(
      'GATEWAY_MODEL_NOT_FOUND',
      `${param}: "${name}" names no role (${roles.join(', ')}).`,
      {
        details: { param },
      },
    );
  }
  const provider = definition.providers.get(lower);
  if (provider) return { role: null, routes: [{ provider }] };
  if (definition.defaultUpstream) {
    // One circuit per model: a model that is down must not block its siblings on the same upstream.
    const circuitId = `${definition.defaultUpstream.id}:${name}`;
    return { role: null, routes: [{ provider: definition.defaultUpstream, model: name, circuitId }] };
  }
  throw new AppError(
    'GATEWAY_MODEL_NOT_FOUND',
    `${param}: "${name}" is not a role, role:<role> or provider id, and AI_RUNTIME_DEFAULT_UPSTREAM is not set.`,
    { details: { param } },
  );
}

/**
 * `model` → a role's chain (`critic`, `role:critic`), one provider (its id), or the default upstream with that model
 * name; each of `fallbacks` is resolved the same way and appended. A route already in the list is not tried twice.
 */
export function resolveModelRoutes(
  definition: RuntimeDefinition,
  model: string,
  fallbacks: readonly string[],
): ModelRoutes {
  const primary = routesOf(definition, model, 'model');
  const routes: RunRoute[] = [];
  const seen = new Set<string>();
  const add = (list: RunRoute[]) => {
    for (const route of list) {
      const key = route.circuitId ?? route.provider.id;
      if (seen.has(key)) continue;
      seen.add(key);
      routes.push(route);
    }
  };
  add(primary.routes);
  for (const [i, name] of fallbacks.entries()) add(routesOf(definition, name, `fallbacks[${i}]`).routes);
  return { role: primary.role, routes };
}

/** `GET /v1/models`: every role (its chain) and every configured provider id, in OpenAI's list shape. */
export function listModels(definition: RuntimeDefinition) {
  const data = [
    ...roles.map((role) => ({ id: role, object: 'model', created: 0, owned_by: 'agent-gateway' })),
    ...[...definition.providers.values()].map((p) => ({
      id: p.id,
      object: 'model',
      created: 0,
      owned_by: p.mode === 'live' ? p.kind : 'deterministic',
    })),
  ];
  return { object: 'list', data };
}
