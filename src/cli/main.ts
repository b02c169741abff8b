// The twofold admin CLI: parse the command, open what it needs on demand, run it, and exit 0, 1 or 2.
import { pino } from 'pino';
import { ConfigError, loadConfig, type Config } from '../config.js';
import type { Logger } from '../logger.js';
import { resolveSecretKey } from '../security/secret-key.js';
import { openDatabase, redactDatabaseUrl, type Database } from '../storage/database.js';
import { isDatabaseUnavailable } from '../storage/database-errors.js';
import { EmbeddedDatabaseLockedError } from '../storage/embedded-lock.js';
import { openStorage } from '../storage/open-storage.js';
import { userError, type CliStorage, type CommandResult } from './command.js';
import { runClientsCommand } from './commands/clients.js';
import { runKeysCommand } from './commands/keys.js';
import { runMigrateCommand } from './commands/migrate.js';
import { runUsersCommand } from './commands/users.js';
import { createProcessOutput, type Output } from './output.js';
import { readNewPassword } from './read-password.js';

const HELP = `Usage: twofold <command> [options]

Administers a Twofold identity provider. Reads the same environment as the server:
DATABASE_URL (unset: the embedded database in DATA_DIR), DATABASE_SCHEMA, DATA_DIR, SECRET_KEY, REDIS_URL (or REDIS_SENTINELS, REDIS_CLUSTER_NODES), NODE_ENV, LOG_LEVEL.

Commands:
  users add|list|set-role|set-password|disable|enable   manage accounts
  clients add|list|remove|rotate-secret|token           manage OIDC clients and initial access tokens
  keys rotate|list                                      rotate the signing keys, list them and their state
  migrate                                               bring the database schema up to date

Run twofold <command> --help for details.
Exit codes: 0 done, 1 failed (e.g. the database is unreachable), 2 bad input (fix the command and retry).`;

// What node:crypto (AES-GCM) and our cipher say when a value was sealed under another key.
const DECRYPTION_FAILURES = /unable to authenticate data|not an encrypted value/;

const EXIT_CODES: Record<CommandResult['status'], number> = { OK: 0, FAILED: 1, USER_ERROR: 2, CANCELLED: 130 };

/** Thrown when the database cannot be opened, with where it was looked for. */
class DatabaseOpenError extends Error {
  constructor(readonly where: string, options: { cause: unknown }) {
    super(`could not open the database (${where})`, options);
  }
}

/** Everything the commands need, built lazily from the environment so `--help` and bad flags need no database. */
function createContext(env: NodeJS.ProcessEnv, output: Output) {
  let config: Config | undefined;
  let logger: Logger | undefined;
  const getConfig = () => (config ??= loadConfig(env));
  // warn unless asked otherwise, and on stderr: stdout carries only the command's result (e.g. --json).
  const getLogger = () => (logger ??= pino({
    name: 'twofold-cli',
    level: env['LOG_LEVEL'] ? getConfig().logLevel : 'warn',
    hooks: {
      logMethod(args, method) {
        // knex warns about each failed connection, stack included; the CLI reports that failure itself in one
        // line, so the warning is only shown when LOG_LEVEL asks for detail.
        const fields = args[0] as { knex?: unknown } | undefined;
        if (!env['LOG_LEVEL'] && typeof fields?.knex === 'string' && fields.knex.startsWith('Acquire connection error')) return;
        method.apply(this, args);
      },
    },
  }, pino.destination({ dest: 2, sync: true })));
  const where = (c: Config) => (c.databaseUrl ? redactDatabaseUrl(c.databaseUrl) : `embedded database in ${c.dataDir}`);

  async function open<T>(step: (c: Config) => Promise<T>): Promise<T> {
    const c = getConfig();
    try {
      return await step(c);
    } catch (err) {
      throw new DatabaseOpenError(where(c), { cause: err });
    }
  }

  return {
    output,
    getLogger,
    loadConfig: getConfig,
    readPassword: (options: { fromStdin: boolean }) => readNewPassword({ input: process.stdin, prompt: process.stderr }, options),
    // Imported only when needed: oidc-provider takes a moment to load (and warns on Node 20) for every other command.
    createMetadataValidator: async (deps: Parameters<typeof import('./validate-client-metadata.js').createClientMetadataValidator>[0]) =>
      (await import('./validate-client-metadata.js')).createClientMetadataValidator(deps),
    openDatabase: (): Promise<Database> =>
      open((c) => openDatabase({ databaseUrl: c.databaseUrl, schema: c.databaseSchema, dataDir: c.dataDir, logger: getLogger(), mode: 'client' })),
    openStorage: async (): Promise<CliStorage> => {
      const storage = await open(async (c) => {
        const secret = await resolveSecretKey(c);
        // A new key means the server (if it runs elsewhere) would not decrypt what this CLI stores: say so.
        if (secret.source === 'generated') output.err(`twofold: warning: generated a development SECRET_KEY in ${c.dataDir}/secret.key`);
        // No Redis: the CLI only touches Postgres, and should work while Redis is down.
        const opened = await openStorage({ config: { ...c, redis: undefined }, logger: getLogger(), secretKey: secret.key, mode: 'client' });
        return { config: c, queries: opened.queries, close: opened.close };
      });
      try {
        // Proves SECRET_KEY is the server's (its signing keys decrypt) before anything is stored under it: a client
        // secret hashed under another key would never match on the server.
        await storage.queries.signingKeys.list();
      } catch (err) {
        await storage.close();
        throw err;
      }
      return storage;
    },
  };
}

/** Runs one CLI invocation and returns its exit code; expected failures are printed as one clear message, never a stack. */
async function run(argv: string[], env: NodeJS.ProcessEnv, output: Output): Promise<number> {
  const context = createContext(env, output);
  const [command, ...args] = argv;
  let result: CommandResult;
  try {
    switch (command) {
      case 'users':
        result = await runUsersCommand(args, context);
        break;
      case 'clients':
        result = await runClientsCommand(args, context);
        break;
      case 'keys':
        result = await runKeysCommand(args, context);
        break;
      case 'migrate':
        result = await runMigrateCommand(args, context);
        break;
      case '--help':
      case '-h':
      case 'help':
        output.out(HELP);
        result = { status: 'OK' };
        break;
      case undefined:
        output.err(HELP);
        result = userError('twofold: give a command');
        break;
      default:
        result = userError(`twofold: unknown command "${command}"; the commands are users, clients, keys and migrate`, '');
    }
  } catch (err) {
    result = describeFailure(err, context.getLogger, env);
  }
  if (result.status === 'USER_ERROR' || result.status === 'FAILED') output.err(result.message);
  if (result.status === 'CANCELLED') output.err('twofold: cancelled; nothing was changed');
  return EXIT_CODES[result.status];
}

function describeFailure(err: unknown, getLogger: () => Logger, env: NodeJS.ProcessEnv): CommandResult {
  if (err instanceof ConfigError) {
    return userError(`twofold: the configuration (environment variables) is invalid:\n${err.problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  if (err instanceof DatabaseOpenError) {
    if (err.cause instanceof ConfigError) return describeFailure(err.cause, getLogger, env);
    if (err.cause instanceof EmbeddedDatabaseLockedError) return { status: 'FAILED', message: `twofold: ${err.cause.message}` };
    const hint = isDatabaseUnavailable(err.cause)
      ? ' Is Postgres running, and is DATABASE_URL right?'
      : ' Check DATABASE_URL, DATABASE_SCHEMA and the database user\'s rights.';
    logDetails(getLogger, env, err.cause);
    return { status: 'FAILED', message: `twofold: ${err.message}: ${describeError(err.cause)}.${hint}` };
  }
  logDetails(getLogger, env, err);
  if (err instanceof Error && DECRYPTION_FAILURES.test(err.message)) {
    return {
      status: 'FAILED',
      message: 'twofold: a secret stored in the database could not be decrypted: SECRET_KEY (or DATA_DIR/secret.key) is not the key the server uses. Run the CLI with the server\'s environment.',
    };
  }
  const unavailable = isDatabaseUnavailable(err) ? ' The database stopped answering; try again.' : ' Set LOG_LEVEL=debug for details.';
  return { status: 'FAILED', message: `twofold: ${describeError(err)}.${unavailable}` };
}

// The stack only on request (LOG_LEVEL=debug), through the logger on stderr.
function logDetails(getLogger: () => Logger, env: NodeJS.ProcessEnv, err: unknown): void {
  if (!env['LOG_LEVEL']) return;
  try {
    getLogger().debug({ err }, 'failure details');
  } catch {
    // an invalid LOG_LEVEL was reported already
  }
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.message) return err.message.split('\n')[0]!.replace(/\.$/, '');
  if (err instanceof AggregateError && err.errors.length) return err.errors.map(describeError).join('; ');
  return (err as { code?: string }).code ?? err.name;
}

async function exitWith(code: number): Promise<never> {
  // Let stdout and stderr drain, then exit even if a driver left a socket or timer behind.
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))));
  process.exit(code);
}

// A driver emitting an error after the command ended must still not print a stack trace.
process.on('uncaughtException', (err) => {
  process.stderr.write(`twofold: ${describeError(err)}\n`);
  process.exit(1);
});

await exitWith(await run(process.argv.slice(2), process.env, createProcessOutput()));
