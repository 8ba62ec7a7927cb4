import { type Setting, settings } from './settings.js';

function formatDefault(definition: Setting<unknown>): string {
  if (definition.defaultText) return definition.defaultText;
  if (definition.default === undefined) return '(unset)';
  return `\`${String(definition.default)}\``;
}

/** Renders `docs/configuration.md` from the settings table. */
export function renderConfigurationDocs(): string {
  const groups = new Map<string, Setting<unknown>[]>();
  for (const definition of Object.values(settings) as Setting<unknown>[]) {
    const list = groups.get(definition.group) ?? [];
    list.push(definition);
    groups.set(definition.group, list);
  }
  const lines = [
    '# Configuration',
    '',
    '<!-- Generated from src/config/settings.ts by `npm run docs:generate`; a test fails when it drifts. -->',
    '',
    'Every setting is read once at start from the environment. All problems are reported together and the',
    'process refuses to start until they are fixed. An empty variable counts as unset.',
    '',
  ];
  for (const [group, list] of groups) {
    lines.push(`## ${group}`, '', '| Variable | Default | Description |', '| --- | --- | --- |');
    for (const definition of list) {
      const secret = definition.secret ? ' *(secret: never logged)*' : '';
      lines.push(
        `| \`${definition.env}\` | ${formatDefault(definition)} | ${definition.description}${secret} |`,
      );
    }
    lines.push('');
  }
  return `${lines.join('\n')}`;
}
