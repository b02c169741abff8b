// What every CLI command shares: the result main turns into an exit code, and how a command is declared and parsed.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Config } from '../config.js';
import type { Queries } from '../storage/queries.js';
import type { Output } from './output.js';

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

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** Every command takes --help (-h): it prints the usage (unknown flags are still refused; positionals are not counted). */
const HELP_OPTION = { help: { type: 'boolean', short: 'h', default: false } } as const;

/** The option values parseArgs gives for `options`, typed from their declaration. */
type ParsedValues<O extends OptionsConfig> =
  ReturnType<typeof parseArgs<{ args: string[]; strict: true; allowPositionals: true; options: O & typeof HELP_OPTION }>>['values'];

/** `min` strings, then any more (as many as `max` allows, checked at run time). */
type Positionals<Min extends number, Given extends string[] = []> = number extends Min
  ? string[]
  : Given['length'] extends Min ? [...Given, ...string[]] : Positionals<Min, [...Given, string]>;

/** What a command declares once: its name (`users add`), its usage text, its options and its positional arguments. */
export interface CommandSpec<O extends OptionsConfig, Min extends number> {
  name: string;
  usage: string;
  options?: O;
  /**
   * How many positional arguments it takes, and their names for messages (default: none). An argument of `form`
   * is always a positional, even one that begins with '-' (a token reference can), never an option.
   */
  positionals?: { min: Min; max: number; names: string; form?: RegExp };
}

/** What the handler gets once the arguments were parsed and checked. */
export interface CommandInput<O extends OptionsConfig, Min extends number> {
  values: ParsedValues<O>;
  positionals: Positionals<Min>;
}

/** A runnable command: the arguments after its name, and what it needs. */
export type Command<D> = (args: string[], deps: D) => Promise<CommandResult>;

/** The arguments of `form` that begin with '-' moved after `--`, where parseArgs reads them as positionals. */
function formedLast(args: string[], form: RegExp | undefined): string[] {
  if (!form) return args;
  const isFormed = (arg: string) => arg.startsWith('-') && form.test(arg);
  const formed = args.filter(isFormed);
  return formed.length ? [...args.filter((arg) => !isFormed(arg)), '--', ...formed] : args;
}

/**
 * Makes a command from its declaration and handler. Arguments are parsed strictly: unknown flags, missing values and a
 * wrong number of positionals become a USER_ERROR; --help (-h) prints the usage on stdout. Neither reaches the handler.
 */
export function defineCommand<D extends { output: Output }, O extends OptionsConfig = Record<never, never>, Min extends number = 0>(
  spec: CommandSpec<O, Min>,
  handler: (input: CommandInput<O, Min>, deps: D) => Promise<CommandResult>,
): Command<D> {
  const { name, usage, positionals: expected = { min: 0, max: 0, names: '', form: undefined } } = spec;
  return async (args, deps) => {
    // What parseArgs is given is what ParsedValues<O> describes: the declared options and --help.
    const options = { ...spec.options, ...HELP_OPTION } as O & typeof HELP_OPTION;
    let parsed: { values: ParsedValues<O>; positionals: string[] };
    try {
      parsed = parseArgs({ args: formedLast(args, expected.form), strict: true, allowPositionals: true, options });
    } catch (err) {
      // parseArgs explains itself ("Unknown option '--foo'"); keep its first line and point at the help.
      const message = ((err as Error).message.split('\n')[0] ?? 'invalid arguments').replace(/\. To specify a positional argument.*$/, '').replace(/\.$/, '');
      return userError(`twofold ${name}: ${message}`, name);
    }
    // (ParsedValues<O> has `help: boolean`, but TypeScript cannot look into it while O is open.)
    if ((parsed.values as { help?: boolean }).help) {
      deps.output.out(usage);
      return OK;
    }
    const given = parsed.positionals;
    if (given.length < expected.min || given.length > expected.max) {
      const wanted = expected.names ? `expected ${expected.names}` : 'expected no arguments';
      const got = given.length ? `got ${given.map((arg) => JSON.stringify(arg)).join(' ')}` : 'got none';
      return userError(`twofold ${name}: ${wanted}, ${got}`, name);
    }
    // `given` has been counted: at least `min` strings.
    return handler({ values: parsed.values, positionals: given as Positionals<Min> }, deps);
  };
}

/**
 * Makes a command that runs one of `commands` by the first argument (`twofold users add ...`); `help`, --help and -h
 * print the usage, and a missing or unknown command is a USER_ERROR naming them.
 */
export function defineCommandGroup<D extends { output: Output }>(
  spec: { name: string; usage: string; commands: Record<string, Command<D>> },
): Command<D> {
  const { name, usage, commands } = spec;
  const names = Object.keys(commands);
  const choices = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names.join('');
  return async ([command, ...rest], deps) => {
    switch (command) {
      case '--help':
      case '-h':
      case 'help':
        deps.output.out(usage);
        return OK;
      case undefined:
        return userError(`twofold ${name}: give a command: ${choices}`, name);
    }
    const run = Object.hasOwn(commands, command) ? commands[command] : undefined;
    if (!run) return userError(`twofold ${name}: unknown command "${command}"; use ${choices}`, name);
    return run(rest, deps);
  };
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
