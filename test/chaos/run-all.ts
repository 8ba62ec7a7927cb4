/**
 * `npm run chaos`: every chaos scenario in turn (each a separate process, so one that breaks cannot hide another),
 * then one line per scenario. Exits 1 when any promise was broken.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const scenarios = ['crash', 'db-outage', 'redis-outage', 'replicas'];
const only = process.argv.slice(2);
const results: { name: string; code: number | null; seconds: number }[] = [];

for (const name of only.length > 0 ? only : scenarios) {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  const started = Date.now();
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
    child.on('exit', (exitCode, signal) => resolve(signal ? 1 : exitCode));
  });
  results.push({ name, code, seconds: (Date.now() - started) / 1000 });
}

process.stdout.write('\n=== chaos summary\n');
for (const r of results)
  process.stdout.write(
    `  ${r.code === 0 ? 'kept  ' : 'BROKEN'}  chaos:${r.name} (${r.seconds.toFixed(1)} s)\n`,
  );
const broken = results.filter((r) => r.code !== 0).length;
process.stdout.write(`${results.length - broken}/${results.length} chaos promises kept\n`);
process.exit(broken > 0 ? 1 : 0);
