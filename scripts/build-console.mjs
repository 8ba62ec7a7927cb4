// Builds the admin console into dist/console: compiles src/console (browser TypeScript, its own tsconfig with the DOM
// library) to ES modules, copies the page, stylesheet and icon, prints the size and fails above the budget.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET_GZIP_BYTES = 150 * 1024;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src/console');
const out = join(root, 'dist/console');

rmSync(out, { recursive: true, force: true });
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(source, 'tsconfig.json')], {
  stdio: 'inherit',
});
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

mkdirSync(join(out, 'assets'), { recursive: true });
copyFileSync(join(source, 'index.html'), join(out, 'index.html'));
for (const file of ['console.css', 'favicon.svg'])
  copyFileSync(join(source, file), join(out, 'assets', file));

const files = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
let raw = 0;
let gzip = 0;
const list = files(out);
for (const file of list) {
  const body = readFileSync(file);
  raw += body.length;
  gzip += gzipSync(body, { level: 9 }).length;
}
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const line = `admin console: ${list.length} files, ${kb(raw)} raw, ${kb(gzip)} gzipped (budget ${kb(BUDGET_GZIP_BYTES)}) in ${relative(root, out)}`;
if (gzip > BUDGET_GZIP_BYTES) {
  console.error(`FAIL ${line}`);
  process.exit(1);
}
console.log(line);
