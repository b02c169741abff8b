// The real server as a child process (`node --import tsx src/main.ts`), started from a clean environment.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/config.js';
import { testRedisUrl } from './app.js';
import { testDatabaseUrl } from './database.js';
import { freePorts } from './ports.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Every variable config.ts reads: the child starts from none of them, so the test runner's own settings do not leak in.
const CONFIG_KEYS = [
  'NODE_ENV', 'PORT', 'HOST', 'ISSUER', 'DATABASE_URL', 'DATABASE_SCHEMA', 'DATABASE_POOL_MIN', 'DATABASE_POOL_MAX', 'REDIS_URL',
  'REDIS_SENTINELS', 'REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD', 'REDIS_CLUSTER_NODES', 'REDIS_PREFIX', 'SMTP_URL', 'MAIL_FROM',
  'DATA_DIR', 'SECRET_KEY', 'TRUST_PROXY', 'LOG_LEVEL', 'SESSION_TTL', 'SESSION_IDLE_TTL', 'INTERACTION_TTL', 'AUTHORIZATION_CODE_TTL',
  'ACCESS_TOKEN_TTL', 'ID_TOKEN_TTL', 'REFRESH_TOKEN_TTL', 'GRANT_TTL', 'TOTP_ISSUER',
];

/**
 * The variables that make a server process a node of the test app with `config`: its Postgres schema, Redis prefix
 * and secret key, on the test Postgres and Redis, with a data folder of its own.
 */
export function nodeOf(config: Config, dataDir: string): Record<string, string> {
  return {
    DATABASE_URL: testDatabaseUrl(),
    DATABASE_SCHEMA: config.databaseSchema,
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: config.redisPrefix,
    SECRET_KEY: config.secretKey!.toString('hex'),
    DATA_DIR: dataDir,
  };
}

/**
 * Starts `count` server processes, each on a free port with `env(port, index)`, and waits until all listen; the
 * caller kills them (all are killed here if one does not start).
 */
export async function startNodes(count: number, env: (port: number, index: number) => Record<string, string>): Promise<{ nodes: ServerProcess[]; ports: number[] }> {
  const ports = await freePorts(count);
  const nodes = ports.map((port, index) => new ServerProcess({ PORT: String(port), HOST: '127.0.0.1', ...env(port, index) }));
  try {
    await Promise.all(nodes.map((node) => node.waitForLog(/^Twofold is listening/, 60_000)));
  } catch (err) {
    // The caller never gets them: none may be left running.
    await Promise.all(nodes.map((node) => node.kill()));
    throw err;
  }
  return { nodes, ports };
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** `node --import tsx src/main.ts` with a given environment, its output collected. */
export class ServerProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** By default the source through tsx in the repository; `options` runs something else (e.g. compiled code elsewhere). */
  constructor(env: Record<string, string>, options: { cwd?: string; args?: string[] } = {}) {
    const base = { ...process.env };
    for (const key of CONFIG_KEYS) delete base[key];
    const args = options.args ?? ['--import', 'tsx', 'src/main.ts'];
    this.child = spawn(process.execPath, args, { cwd: options.cwd ?? repo, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** The JSON log lines written so far. */
  logs(): LogLine[] {
    return this.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogLine);
  }

  /** Waits for a log line whose message matches; fails with the output when the process exits or time runs out. */
  async waitForLog(pattern: RegExp, timeoutMs: number): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      const line = this.logs().find((l) => pattern.test(l.msg));
      if (line) return line;
      if (exited || Date.now() > deadline) {
        throw new Error(`no log line matching ${pattern} (${exited ? 'process exited' : 'timed out'})\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Waits for the exit and returns the exit code, failing after `timeoutMs`. */
  async exitCode(timeoutMs: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`)), timeoutMs);
    });
    try {
      return (await Promise.race([this.exited, timeout])).code;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the child if a failed test left it running. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}


