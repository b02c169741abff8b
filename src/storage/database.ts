// Opens the database: Postgres from DATABASE_URL, or the embedded PGlite for development.
import knexFactory, { type Knex } from 'knex';
import type { Logger } from '../logger.js';
import { openEmbeddedDatabase } from './embedded-database.js';

export interface OpenDatabaseOptions {
  databaseUrl?: string | undefined;
  /** Schema holding every table (created if missing); validated as an identifier by the config. */
  schema: string;
  dataDir: string;
  logger: Logger;
  /** 'server' serves the embedded database to local clients; 'client' (the CLI) uses a running server's. */
  mode: 'server' | 'client';
  /** Connections to Postgres kept by this process (DATABASE_POOL_MIN/MAX); DEFAULT_POOL when omitted. */
  pool?: { min: number; max: number } | undefined;
}

export interface Database {
  knex: Knex;
  kind: 'postgres' | 'embedded';
  close(): Promise<void>;
}

// Sized for a small machine, and failing fast: when Postgres is down a request gets an error within
// seconds instead of hanging, and since nothing is kept open (min 0) the pool reconnects by itself later.
const DEFAULT_POOL = { min: 0, max: 10 };
const POOL_TIMEOUTS = { idleTimeoutMillis: 30_000, createTimeoutMillis: 5_000 };
const ACQUIRE_TIMEOUT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 3_000;
const STATEMENT_TIMEOUT_MS = 15_000;
// Client-side bound for a server that stopped answering (network partition), where statement_timeout cannot fire.
const QUERY_TIMEOUT_MS = STATEMENT_TIMEOUT_MS + 5_000;
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;

/** Opens the database and makes sure its schema exists; migrations are run separately (runMigrations). */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const log = knexLog(options.logger);
  let database: Database;
  if (options.databaseUrl) {
    const pool = { ...DEFAULT_POOL, ...options.pool };
    const knex = knexFactory({
      client: 'pg',
      connection: {
        connectionString: options.databaseUrl,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        statement_timeout: STATEMENT_TIMEOUT_MS,
        query_timeout: QUERY_TIMEOUT_MS,
        idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
        application_name: 'twofold',
      } as Knex.PgConnectionConfig,
      searchPath: [options.schema],
      pool: { ...pool, ...POOL_TIMEOUTS },
      acquireConnectionTimeout: ACQUIRE_TIMEOUT_MS,
      log,
    });
    database = { knex, kind: 'postgres', close: () => knex.destroy() };
    options.logger.info({ database: redactDatabaseUrl(options.databaseUrl), schema: options.schema, pool }, 'database: using Postgres');
  } else {
    const embedded = await openEmbeddedDatabase({ ...options, knexLog: log });
    database = { knex: embedded.knex, kind: 'embedded', close: embedded.close };
  }
  try {
    await ensureSchema(database.knex, options.schema);
  } catch (err) {
    await database.close().catch(() => {});
    throw err;
  }
  return database;
}

/** Runs `select 1`: resolves when the database answers (readiness), rejects otherwise. */
export async function pingDatabase(knex: Knex): Promise<void> {
  await knex.raw('select 1');
}

/** The URL with its password replaced, for logs and error messages. */
export function redactDatabaseUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    for (const key of [...url.searchParams.keys()]) {
      if (/pass/i.test(key)) url.searchParams.set(key, '***');
    }
    return url.toString();
  } catch {
    return '[unparsable database URL]';
  }
}

async function ensureSchema(knex: Knex, schema: string): Promise<void> {
  try {
    await knex.raw('create schema if not exists ??', [schema]);
  } catch (err) {
    // Two instances creating it at the same moment: one of them gets a duplicate error, and the schema exists.
    const code = (err as { code?: string }).code;
    if (code !== '23505' && code !== '42P06') throw err;
  }
}

function knexLog(logger: Logger): Knex.Config['log'] {
  return {
    warn: (message: unknown) => logger.warn({ knex: String(message) }, 'knex warning'),
    error: (message: unknown) => logger.error({ knex: String(message) }, 'knex error'),
    deprecate: (method: string, alternative: string) => logger.warn({ method, alternative }, 'knex deprecation'),
    debug: () => {},
  };
}
