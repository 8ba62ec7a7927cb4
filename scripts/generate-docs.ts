import { writeFileSync } from 'node:fs';
import { renderConfigurationDocs } from '../src/config/render-docs.js';
import { renderErrorDocs } from '../src/errors/render-docs.js';

/** Regenerates the docs that are derived from code; tests fail when the committed copies drift. */
writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigurationDocs());
writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorDocs());
process.stdout.write('docs/configuration.md and docs/errors.md regenerated\n');
