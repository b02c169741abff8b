// Starts Twofold as a separate production process on a fresh schema and Redis prefix, with an SMTP sink; cleans up after.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import knexFactory from 'knex';
import { Redis } from 'ioredis';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../test/helpers/ports.js';
import { deleteRedisPrefix } from '../test/helpers/redis.js';
import { startFaultProxy, targetOf, type FaultProxy } from '../test/helpers/fault-proxy.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface BenchServer {
  issuer: string;
  pid: number;
  env: Record<string, string>;
  /** How the server process ended ("code 1", "signal SIGKILL"), or undefined while it runs. */
  exited(): string | undefined;
  /** Mails the SMTP sink accepted. */
  mails(): number;
  /** The fault proxy between Twofold and the SMTP sink, when started with `smtpProxy`. */
  smtpProxy: FaultProxy | undefined;
  stop(): Promise<void>;
}

/** A clear failure the bench reports on one line and exits 1 with. */
export class BenchError extends Error {}

export function databaseUrl(): string {
  return process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';
}

export function redisUrl(): string {
  return process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';
}

/** Fails clearly when Postgres or Redis does not answer, before anything is started. */
export async function checkBackends(): Promise<void> {
  const quiet = { warn: () => undefined, error: () => undefined, debug: () => undefined, deprecate: () => undefined };
  const knex = knexFactory({ client: 'pg', connection: databaseUrl(), pool: { min: 0, max: 1 }, acquireConnectionTimeout: 5000, log: quiet });
  try {
    await knex.raw('select 1');
  } catch (err) {
    throw new BenchError(`Postgres is not reachable at ${databaseUrl()} (set DATABASE_URL): ${(err as Error).message}`);
  } finally {
    await knex.destroy();
  }
  const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined); // reported below, once
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new BenchError(`Redis is not reachable at ${redisUrl()} (set REDIS_URL): ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }
}

async function startSmtpSink(): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let count = 0;
  const sink = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        count++;
        callback();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => sink.listen(port, '127.0.0.1', resolve));
  return { url: `smtp://127.0.0.1:${port}`, count: () => count, close: () => new Promise<void>((resolve) => sink.close(() => resolve())) };
}

async function waitReady(issuer: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new BenchError(`Twofold exited with code ${child.exitCode} while starting:\n${output()}`);
    const ready = await fetch(`${issuer}/readyz`).then((r) => r.status === 200, () => false);
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new BenchError(`Twofold did not answer 200 on ${issuer}/readyz within 60 s:\n${output()}`);
}

/**
 * Compiles src to dist (as `npm run build` does), so that the server measured is the current source and not
 * an older build left in dist.
 */
function build(): void {
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new BenchError(`the build (tsc -p tsconfig.build.json) failed:\n${(result.stdout + result.stderr).trim() || result.error?.message}`);
}

/**
 * The node options of `npm start` in package.json (`node [options] dist/src/main.js`), so that the bench runs the
 * server with the same ones as production.
 */
export function startOptions(): string[] {
  const script = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: { start?: string } }).scripts?.start ?? '';
  const words = script.trim().split(/\s+/);
  if (words[0] !== 'node' || words[words.length - 1] !== 'dist/src/main.js') {
    throw new BenchError(`package.json's start script should read "node [options] dist/src/main.js", not "${script}"`);
  }
  return words.slice(1, -1);
}

/**
 * Builds and starts the server as production runs it (node [start options] dist/src/main.js) and waits for /readyz. `storeUrls` sends
 * its Postgres and Redis traffic elsewhere (through the fault proxies); set-up and clean-up still use the stores directly.
 */
export async function startServer(
  options: { cpuProf?: string | undefined; storeUrls?: { database: string; redis: string }; smtpProxy?: boolean } = {},
): Promise<BenchServer> {
  const smtp = await startSmtpSink();
  const smtpProxy = options.smtpProxy ? await startFaultProxy(targetOf(smtp.url)) : undefined;
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: issuer,
    DATABASE_URL: options.storeUrls?.database ?? databaseUrl(),
    DATABASE_SCHEMA: `bench_${randomBytes(6).toString('hex')}`,
    REDIS_URL: options.storeUrls?.redis ?? redisUrl(),
    REDIS_PREFIX: `bench:${randomUUID()}:`,
    SECRET_KEY: randomBytes(32).toString('hex'),
    SMTP_URL: smtpProxy ? smtpProxy.urlFor(smtp.url) : smtp.url,
  };
  build();
  const profile = options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProf}`] : [];
  const args = [...startOptions(), ...profile, path.join(root, 'dist/src/main.js')];
  const child = spawn(process.execPath, args, { cwd: root, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const cleanup = async () => {
    await dropSchema(env['DATABASE_SCHEMA']!).catch(() => undefined);
    await deleteRedisPrefix(redisUrl(), env['REDIS_PREFIX']!).catch(() => undefined);
    await smtpProxy?.close();
    await smtp.close();
  };
  try {
    await waitReady(issuer, child, () => output);
  } catch (err) {
    child.kill('SIGKILL');
    await cleanup();
    throw err;
  }
  return {
    issuer,
    pid: child.pid!,
    env,
    exited: () => (child.exitCode !== null ? `code ${child.exitCode}` : child.signalCode ? `signal ${child.signalCode}` : undefined),
    mails: smtp.count,
    smtpProxy,
    async stop() {
      // A process killed by a signal has no exit code, only a signal code: it is gone all the same.
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      await cleanup();
    },
  };
}

async function dropSchema(schema: string): Promise<void> {
  const knex = knexFactory({ client: 'pg', connection: databaseUrl(), pool: { min: 0, max: 1 } });
  try {
    await knex.raw('drop schema if exists ?? cascade', [schema]);
  } finally {
    await knex.destroy();
  }
}

