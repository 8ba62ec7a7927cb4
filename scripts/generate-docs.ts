import { readFileSync, writeFileSync } from 'node:fs';
import { withRoutingTable } from '../src/cli/gate/failure-modes.js';
import { renderConfigurationDocs } from '../src/config/render-docs.js';
import { renderErrorDocs } from '../src/errors/render-docs.js';

/** Regenerates the docs that are derived from code; tests fail when the committed copies drift. */
writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigurationDocs());
writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorDocs());
const runbook = new URL('../docs/ops/agent-gateway-ai-runtime-runbook.md', import.meta.url);
writeFileSync(runbook, withRoutingTable(readFileSync(runbook, 'utf8')));
process.stdout.write(
  'docs/configuration.md, docs/errors.md and the failure-mode table of the AI runtime runbook regenerated\n',
);
