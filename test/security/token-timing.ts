/**
 * `npm run security:timing`: is the time a wrong credential takes to be refused independent of how much of it matches
 * the real one? For every credential door (admin token, /v1 key, metrics token, ingest HMAC, Telegram secret token)
 * a real gateway process gets pairs of wrong credentials — one equal to the secret but for its last character, one
 * differing at every position — sent back to back in random order over one keep-alive connection. A sign test on
 * the paired differences decides (pairs share the machine's load bursts, which make an unpaired test overconfident
 * on a shared CPU); a dependence is reported when p < alpha and the prefix-matching credential is slower (or faster)
 * in at least 50 % + SECURITY_TIMING_MIN_EFFECT of the pairs. Medians and an unpaired Mann-Whitney p are printed for
 * reading. A positive control (a local server comparing byte by byte, ~0.2 µs per matching character) must be caught
 * by the same procedure, so a pass means "no dependence this check could see", not "no check".
 * Exit 0: no door shows a dependence; 1: a door does, or the control was missed; 2: setup failure.
 * Env: SECURITY_TIMING_SAMPLES (pairs per door, default 3000), SECURITY_TIMING_ALPHA (0.001),
 * SECURITY_TIMING_MIN_EFFECT (0.1).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { mannWhitney, type PairedComparison, signTest } from './timing-stats.js';

const SAMPLES = Number(process.env.SECURITY_TIMING_SAMPLES ?? 3000);
const ALPHA = Number(process.env.SECURITY_TIMING_ALPHA ?? 0.001);
/**
 * Smallest tendency that counts: the prefix-matching credential slower (or faster) in ≥ 60 % of pairs. On this
 * harness every door, hash-compared ones included, shows the prefix side ~0.3–0.9 µs *faster* in 52–56 % of pairs
 * (an artefact of the client and parser, not an early-exit compare, which would make it slower); the control's
 * 0.2 µs per character (~9 µs) lands at 89–91 %.
 */
const MIN_EFFECT = Number(process.env.SECURITY_TIMING_MIN_EFFECT ?? 0.1);
const WARMUP = 300;

// Hex secrets, so every character has alternatives in one alphabet.
const ADMIN = randomBytes(20).toString('hex');
const API_KEY = randomBytes(20).toString('hex');
const METRICS = randomBytes(20).toString('hex');
const WEBHOOK = randomBytes(20).toString('hex');
const TELEGRAM = randomBytes(20).toString('hex');
const HEX = '0123456789abcdef';

interface Door {
  name: string;
  /** The request carrying `wrong` (a credential that differs from the right one as `kind` says). */
  request(kind: 'prefix' | 'none'): {
    method: 'GET' | 'POST';
    path: string;
    headers: Record<string, string>;
    body?: string;
  };
}

/** A random hex digit other than `c`. */
function otherThan(c: string): string {
  return HEX[(HEX.indexOf(c) + 1 + Math.floor(Math.random() * (HEX.length - 1))) % HEX.length]!;
}

/**
 * A wrong hex value: the secret with its last character changed ("prefix"), or the secret with every character
 * rotated by 8 and its last character changed the same way ("none": wrong at every position). Both kinds are fixed
 * but for a random last character, so the harness treats them alike: random "none" values against near-constant
 * "prefix" values made the prefix side ~0.8 µs faster on every door, hash-compared ones included.
 */
function wrongValue(secret: string, kind: 'prefix' | 'none'): string {
  const stem = kind === 'prefix' ? secret : [...secret].map((c) => HEX[(HEX.indexOf(c) + 8) % 16]).join('');
  return stem.slice(0, -1) + otherThan(secret.at(-1)!);
}

const doors: Door[] = [
  {
    name: 'admin token (x-admin-token)',
    request: (kind) => ({
      method: 'GET',
      path: '/api/admin/whoami',
      headers: { 'x-admin-token': wrongValue(ADMIN, kind) },
    }),
  },
  {
    name: '/v1 key (Authorization: Bearer)',
    request: (kind) => ({
      method: 'GET',
      path: '/v1/models',
      headers: { authorization: `Bearer ${wrongValue(API_KEY, kind)}` },
    }),
  },
  {
    name: 'metrics token (Authorization: Bearer)',
    request: (kind) => ({
      method: 'GET',
      path: '/metrics',
      headers: { authorization: `Bearer ${wrongValue(METRICS, kind)}` },
    }),
  },
  {
    name: 'ingest HMAC (x-gateway-signature)',
    request: (kind) => {
      const body = JSON.stringify({
        connectorId: 'timing',
        eventId: 'e',
        channel: 'timing',
        fromRole: 'observer',
        type: 'note',
      });
      const ts = String(Math.floor(Date.now() / 1000));
      const right = createHmac('sha256', WEBHOOK).update(`${ts}.${body}`).digest('hex');
      return {
        method: 'POST',
        path: '/api/agent-gateway/adapters/ingest',
        headers: {
          'content-type': 'application/json',
          'x-gateway-timestamp': ts,
          'x-gateway-signature': `v1=${wrongValue(right, kind)}`,
        },
        body,
      };
    },
  },
  {
    name: 'Telegram secret token',
    request: (kind) => ({
      method: 'POST',
      path: '/api/agent-gateway/channels/telegram/tg',
      headers: {
        'content-type': 'application/json',
        'x-telegram-bot-api-secret-token': wrongValue(TELEGRAM, kind),
      },
      body: JSON.stringify({ update_id: 1, message: { chat: { id: 1 }, text: 'x' } }),
    }),
  },
];

/**
 * Response times (µs) of `n` pairs: each pair sends one credential of each kind back to back, in random order, so
 * both see the same machine load; each response is checked to be a refusal.
 */
async function sample(pool: Pool, door: Door, n: number): Promise<{ prefix: number[]; none: number[] }> {
  const out = { prefix: [] as number[], none: [] as number[] };
  const once = async (kind: 'prefix' | 'none') => {
    const { method, path, headers: built, body } = door.request(kind);
    // Flat copies of every header value (a value built by concatenation is a rope that the client would flatten
    // inside the timed call, for one kind more than the other).
    const headers = Object.fromEntries(
      Object.entries(built).map(([k, v]) => [k, Buffer.from(v, 'latin1').toString('latin1')]),
    );
    const t0 = process.hrtime.bigint();
    const res = await pool.request({ method, path, headers, ...(body ? { body } : {}) });
    await res.body.text();
    const us = Number(process.hrtime.bigint() - t0) / 1000;
    if (res.statusCode !== 401) throw new Error(`${door.name}: expected 401, got ${res.statusCode}`);
    return us;
  };
  for (let i = 0; i < WARMUP; i++) await once(i % 2 ? 'prefix' : 'none');
  for (let i = 0; i < n; i++) {
    if (Math.random() < 0.5) {
      out.prefix.push(await once('prefix'));
      out.none.push(await once('none'));
    } else {
      out.none.push(await once('none'));
      out.prefix.push(await once('prefix'));
    }
  }
  return out;
}

/** The positive control: a server that compares byte by byte, spending ~0.2 µs per matching character. */
async function leakyServer(secret: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const presented = String(req.headers['x-token'] ?? '');
    for (let i = 0; i < secret.length && presented[i] === secret[i]; i++) {
      const until = process.hrtime.bigint() + 200n;
      while (process.hrtime.bigint() < until);
    }
    res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"nope"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function startGateway(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'NODE_OPTIONS'])
    if (process.env[key]) env[key] = process.env[key];
  Object.assign(env, {
    HOST: '127.0.0.1',
    PORT: '0',
    AGW_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ADMIN_API_TOKEN: ADMIN,
    GATEWAY_API_KEYS: API_KEY,
    METRICS_TOKEN: METRICS,
    AGENT_GATEWAY_WEBHOOK_SECRET: WEBHOOK,
    AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMIT_MAX: '10000000',
    AGENT_GATEWAY_CHANNEL_CONNECTORS: JSON.stringify({ tg: { platform: 'telegram', secret: TELEGRAM } }),
  });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve({ url: match[1]!.replace('localhost', '127.0.0.1'), child });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`gateway exited ${code}:\n${out}`)));
  });
}

const fmt = (us: number) => `${us.toFixed(1)} µs`;
/** Significant (sign test) and large enough to matter: the dependence this check reports. */
const depends = (c: PairedComparison) => c.p < ALPHA && Math.abs(c.share - 0.5) >= MIN_EFFECT;
function line(name: string, prefix: number[], none: number[], c: PairedComparison, verdict: string): string {
  // The unpaired view, for reading: medians and Mann-Whitney over all samples (not used for the verdict).
  const u = mannWhitney(prefix, none);
  return `  ${name.padEnd(44)} median prefix ${fmt(u.medianA).padStart(8)}  none ${fmt(u.medianB).padStart(8)}  paired diff ${fmt(c.medianDiff).padStart(7)}  prefix slower in ${(c.share * 100).toFixed(1)} % of pairs  sign-test p ${c.p.toExponential(1)}  (unpaired MW p ${u.p.toExponential(1)})  ${verdict}`;
}

async function main(): Promise<number> {
  console.log(
    `security:timing — ${SAMPLES} pairs per door, alpha ${ALPHA}, minimum effect ${MIN_EFFECT * 100} points from 50 %, node ${process.version}, ${cpus().length} CPUs`,
  );
  console.log(
    '  "prefix" = the secret with its last character wrong; "none" = wrong at every position (both vary only in the last)',
  );
  let failed = false;

  const controlSecret = randomBytes(20).toString('hex');
  const control = await leakyServer(controlSecret);
  const controlPool = new Pool(control.url, { connections: 1 });
  try {
    const controlDoor: Door = {
      name: 'positive control (0.2 µs per matching char)',
      request: (kind) => ({
        method: 'GET',
        path: '/',
        headers: { 'x-token': wrongValue(controlSecret, kind) },
      }),
    };
    const s = await sample(controlPool, controlDoor, SAMPLES);
    const c = signTest(s.prefix, s.none);
    const detected = depends(c) && c.share > 0.5;
    console.log(
      line(
        controlDoor.name,
        s.prefix,
        s.none,
        c,
        detected ? 'detected (as it must be)' : 'MISSED: the check has no power here',
      ),
    );
    if (!detected) failed = true;
  } finally {
    await controlPool.close();
    await control.close();
  }

  const dataDir = mkdtempSync(join(tmpdir(), 'agw-timing-'));
  const gateway = await startGateway(dataDir);
  const pool = new Pool(gateway.url, { connections: 1 });
  try {
    for (const door of doors) {
      const s = await sample(pool, door, SAMPLES);
      const c = signTest(s.prefix, s.none);
      const dependent = depends(c);
      if (dependent) failed = true;
      console.log(line(door.name, s.prefix, s.none, c, dependent ? 'DEPENDS ON THE PREFIX' : 'independent'));
    }
  } finally {
    await pool.close();
    gateway.child.kill('SIGTERM');
    await new Promise((resolve) => gateway.child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(
    failed ? 'FAIL' : 'PASS: wrong-credential response time does not depend on the matching prefix',
  );
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
