import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export interface ConsoleAsset {
  body: Buffer;
  /** Present when gzip makes the file smaller. */
  gzip: Buffer | null;
  contentType: string;
  etag: string;
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Where `npm run build` puts the console: `dist/console`. Running from `dist/` this module sits in `dist/http/`;
 * running from source (tsx, vitest) it sits in `src/http/` and the built assets are still under `dist/`.
 */
export function defaultConsoleDir(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? '../../dist/console/' : '../console/', import.meta.url));
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? listFiles(path) : [path];
  });
}

/**
 * The built console, read into memory on first use (it is small: see the size check in the build). Requests are
 * looked up in this map by relative path, so no request path ever reaches the file system. A missing build is not
 * cached: the next request looks again.
 */
export class ConsoleAssets {
  private assets: Map<string, ConsoleAsset> | undefined;

  constructor(private readonly dir: string = defaultConsoleDir()) {}

  get(path: string): ConsoleAsset | undefined {
    return this.load()?.get(path);
  }

  /** False when the console has not been built into `dir`. */
  get available(): boolean {
    return this.load() !== undefined;
  }

  private load(): Map<string, ConsoleAsset> | undefined {
    if (this.assets) return this.assets;
    if (!existsSync(join(this.dir, 'index.html'))) return undefined;
    const assets = new Map<string, ConsoleAsset>();
    for (const file of listFiles(this.dir)) {
      const contentType = contentTypes[extname(file)];
      if (!contentType) continue;
      const body = readFileSync(file);
      const gzip = gzipSync(body, { level: 9 });
      assets.set(relative(this.dir, file).split(sep).join('/'), {
        body,
        gzip: gzip.length < body.length ? gzip : null,
        contentType,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      });
    }
    this.assets = assets;
    return assets;
  }
}
