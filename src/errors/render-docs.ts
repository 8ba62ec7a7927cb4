import { type ErrorDefinition, errorCatalogue } from './catalogue.js';

/** Renders `docs/errors.md` from the catalogue. */
export function renderErrorDocs(): string {
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from src/errors/catalogue.ts by `npm run docs:generate`; a test fails when it drifts. -->',
    '',
    'Every error response has the body `{ "error": "<CODE>", "message": "<human text>", "requestId": "<id>" }`,',
    'plus `details` where there is more to say (for validation errors, `details.fields` names the fields).',
    'The `x-request-id` response header carries the same id; the logs carry it as `reqId`.',
    '',
    '| Code | HTTP status | Retry? | Meaning |',
    '| --- | --- | --- | --- |',
  ];
  for (const [code, definition] of Object.entries(errorCatalogue) as [string, ErrorDefinition][]) {
    lines.push(
      `| \`${code}\` | ${definition.status} | ${definition.retryable ? 'yes' : 'no'} | ${definition.summary} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}
