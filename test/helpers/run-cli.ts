// Runs the twofold CLI as a subprocess (node --import tsx src/cli/main.ts), as an administrator would.
import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { projectRoot } from '../../src/paths.js';
import { testRedisUrl, type TestApp } from './app.js';
import { testDatabaseUrl } from './database.js';
import { useTempDir } from './temp-dir.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** How long the process took, in milliseconds. */
  ms: number;
}

/** Runs the CLI with exactly `env` (plus PATH and HOME), feeding `input` on stdin; killed after `timeoutMs`. */
export function runCli(args: string[], options: { env: Record<string, string | undefined>; input?: string; timeoutMs?: number }): Promise<CliRun> {
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', NODE_ENV: 'test' };
  for (const [key, value] of Object.entries(options.env)) if (value !== undefined) env[key] = value;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: projectRoot, env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
    child.stdin.on('error', () => {}); // the CLI may exit before reading stdin (e.g. on a bad flag)
    child.stdin.end(options.input ?? '');
  });
}

/** A line of a stack trace ("    at fn (file:1:2)"): the CLI must never print one for a person's mistake. */
export const STACK_LINE = /^\s+at /m;

/** Asserts a refusal: the exit code, a message matching `pattern` on stderr, nothing on stdout, no stack trace. */
export function expectRefused(run: CliRun, code: number, pattern: RegExp): void {
  const context = `exit ${run.code}, stderr:\n${run.stderr}`;
  expect(run.code, context).to.equal(code);
  expect(run.stderr, context).to.match(pattern);
  expect(run.stderr, context).not.to.match(STACK_LINE);
  expect(run.stdout, context).to.equal('');
}

/**
 * The CLI of a running test app, as its administrator runs it: the app's database schema and SECRET_KEY, a data folder
 * of its own (made before the suite's tests, removed after), and, with `serversRedis()`, the app's Redis settings.
 */
export function useAppCli(app: () => TestApp) {
  const dataDir = useTempDir('twofold-cli-');
  return {
    cli: (args: string[], extra: Record<string, string> = {}) => {
      const { config } = app();
      return runCli(args, {
        env: { DATABASE_URL: testDatabaseUrl(), DATABASE_SCHEMA: config.databaseSchema, SECRET_KEY: config.secretKey!.toString('hex'), DATA_DIR: dataDir(), ...extra },
      });
    },
    serversRedis: () => ({ REDIS_URL: testRedisUrl(), REDIS_PREFIX: app().config.redisPrefix }),
  };
}
