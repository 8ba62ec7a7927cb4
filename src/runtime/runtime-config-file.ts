import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { providerKinds } from '../providers/provider.js';
import { profileNamePattern, providerIdPattern, roles } from './roles.js';

const profileOverride = z.strictObject({
  endpoint: z.string().trim().min(1).optional(),
  apiKey: z.string().trim().min(1).optional(),
  model: z.string().trim().min(1).optional(),
});

const providerEntry = z.strictObject({
  kind: z.enum(providerKinds).optional(),
  endpoint: z.string().trim().min(1).optional(),
  apiKey: z.string().trim().min(1).optional(),
  model: z.string().trim().min(1).optional(),
  authProfiles: z
    .union([
      z.array(z.string().trim().toLowerCase().regex(profileNamePattern)).min(1),
      z.record(z.string().trim().toLowerCase().regex(profileNamePattern), profileOverride),
    ])
    .optional(),
});

const chain = z.array(z.string().trim().toLowerCase().regex(providerIdPattern)).min(1);

const fileSchema = z.strictObject({
  providers: z.record(z.string().trim().toLowerCase().regex(providerIdPattern), providerEntry).optional(),
  chains: z.strictObject(Object.fromEntries(roles.map((role) => [role, chain.optional()]))).optional(),
});

/** The optional AI_RUNTIME_CONFIG file: provider definitions and chains for larger setups (env wins). */
export type RuntimeConfigFile = z.infer<typeof fileSchema>;

/**
 * Reads and validates the JSON or YAML file. Problems are pushed (naming the variable, the file and the field,
 * never a value) and an empty definition is returned so the caller can report everything together.
 */
export function readRuntimeConfigFile(path: string, problems: string[]): RuntimeConfigFile {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(
      `AI_RUNTIME_CONFIG cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
    return {};
  }
  let value: unknown;
  try {
    value = /\.json$/i.test(path) ? JSON.parse(raw) : parseYaml(raw);
  } catch (error) {
    problems.push(
      `AI_RUNTIME_CONFIG ${path} is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${firstLine(error)}`,
    );
    return {};
  }
  const parsed = fileSchema.safeParse(value ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues.slice(0, 10)) {
      const where = issue.path.join('.') || '(root)';
      problems.push(`AI_RUNTIME_CONFIG ${path}: ${where}: ${issue.message}`);
    }
    return {};
  }
  return parsed.data;
}

function firstLine(error: unknown): string {
  return String((error as Error).message ?? error).split('\n')[0] ?? '';
}
