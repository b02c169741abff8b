// What every CLI command shares: the result main turns into an exit code, and strict argument parsing.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Config } from '../config.js';
import type { Queries } from '../storage/queries.js';

/**
 * How a command ended. USER_ERROR is the caller's mistake (bad flag, unknown user, weak password: exit 2);
 * FAILED is the system's (database unreachable: exit 1); CANCELLED is Ctrl-C at a prompt (exit 130).
 */
export type CommandResult =
  | { status: 'OK' }
  | { status: 'USER_ERROR'; message: string }
  | { status: 'FAILED'; message: string }
  | { status: 'CANCELLED' };

export const OK: CommandResult = Object.freeze({ status: 'OK' });

/** A USER_ERROR result whose message ends with where to read more. */
export function userError(message: string, helpCommand?: string): CommandResult {
  const help = helpCommand === undefined ? '' : ` (see: ${['twofold', helpCommand].filter(Boolean).join(' ')} --help)`;
  return { status: 'USER_ERROR', message: `${message}${help}` };
}

type ParseResult<T extends ParseArgsConfig> = ReturnType<typeof parseArgs<T>>;

/** Parses `config.args` strictly; unknown flags, missing values and a wrong number of positionals become a USER_ERROR. */
export function parseCommandArgs<T extends ParseArgsConfig & { args: string[]; strict: true }>(
  command: string,
  config: T,
  positionals: { min: number; max: number; names: string },
): { status: 'PARSED'; values: ParseResult<T>['values']; positionals: string[] } | { status: 'ERROR'; result: CommandResult } {
  let parsed: ParseResult<T>;
  try {
    parsed = parseArgs(config);
  } catch (err) {
    // parseArgs explains itself ("Unknown option '--foo'"); keep its first line and point at the help.
    const message = ((err as Error).message.split('\n')[0] ?? 'invalid arguments').replace(/\. To specify a positional argument.*$/, '').replace(/\.$/, '');
    return { status: 'ERROR', result: userError(`twofold ${command}: ${message}`, command) };
  }
  const given = (parsed as { positionals?: string[] }).positionals ?? [];
  if ((parsed.values as Record<string, unknown>)['help'] !== true && (given.length < positionals.min || given.length > positionals.max)) {
    const expected = positionals.names ? `expected ${positionals.names}` : 'expected no arguments';
    const got = given.length ? `got ${given.map((arg) => JSON.stringify(arg)).join(' ')}` : 'got none';
    return { status: 'ERROR', result: userError(`twofold ${command}: ${expected}, ${got}`, command) };
  }
  return { status: 'PARSED', values: parsed.values, positionals: given };
}

/** The database as commands use it, opened on demand (so `--help` and bad flags never touch it). */
export interface CliStorage {
  config: Config;
  queries: Queries;
  close(): Promise<void>;
}

/** Opens the storage, runs `use` with it and always closes it. */
export async function withStorage<T>(open: () => Promise<CliStorage>, use: (storage: CliStorage) => Promise<T>): Promise<T> {
  const storage = await open();
  try {
    return await use(storage);
  } finally {
    await storage.close();
  }
}
