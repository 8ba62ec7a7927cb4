import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConfigurationDocs } from '../../src/config/render-docs.js';
import { settings } from '../../src/config/settings.js';
import { errorCatalogue } from '../../src/errors/catalogue.js';
import { renderErrorDocs } from '../../src/errors/render-docs.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('generated docs stay in sync with code (run `npm run docs:generate` after changing either)', () => {
  it('docs/errors.md lists every code of the catalogue with its status', () => {
    const doc = read('docs/errors.md');
    expect(doc).toBe(renderErrorDocs());
    for (const [code, def] of Object.entries(errorCatalogue)) {
      expect(doc).toContain(`| \`${code}\` | ${def.status} |`);
    }
  });

  it('docs/configuration.md documents every setting', () => {
    const doc = read('docs/configuration.md');
    expect(doc).toBe(renderConfigurationDocs());
    for (const definition of Object.values(settings)) expect(doc).toContain(`\`${definition.env}\``);
  });
});
