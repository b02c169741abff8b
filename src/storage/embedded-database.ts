// The development database: PGlite in DATA_DIR/postgres, shared with the CLI through a unix socket.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import knexFactory, { type Knex } from 'knex';
import type { Logger } from '../logger.js';
import { acquireLock, EmbeddedDatabaseLockedError } from './embedded-lock.js';
import { SOCKET_PORT, serveSocket, socketAcceptsConnections, type SocketServer } from './embedded-socket.js';
import { createPGliteSession } from './pglite-session.js';

export interface EmbeddedDatabaseOptions {
  dataDir: string;
  schema: string;
  logger: Logger;
  mode: 'server' | 'client';
  /** How long a client waits for a server that holds the lock but is still starting (default 15 s). */
  waitForServerMs?: number;
  knexLog?: Knex.Config['log'];
}

export interface EmbeddedDatabase {
  knex: Knex;
  /** How this process reaches the data: PGlite in this process, or a server's socket. */
  via: 'pglite' | 'socket';
  close(): Promise<void>;
}

/** Where the embedded database keeps its files, lock and socket under `dataDir`. */
export function embeddedPaths(dataDir: string): { pgliteDir: string; lockFile: string; socketDir: string } {
  return {
    pgliteDir: path.join(dataDir, 'postgres'),
    lockFile: path.join(dataDir, 'postgres.lock'),
    socketDir: path.join(dataDir, 'postgres-socket'),
  };
}

/** Opens PGlite in this process (serving it on the socket in 'server' mode), or, in 'client' mode, connects to a running server's socket. */
export async function openEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const paths = embeddedPaths(options.dataDir);
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  if (options.mode === 'server') return openInProcess(options, true);

  const deadline = Date.now() + (options.waitForServerMs ?? 15_000);
  for (;;) {
    if (await socketAcceptsConnections(paths.socketDir)) return connectToSocket(options);
    try {
      return await openInProcess(options, false);
    } catch (err) {
      // Held by a live process that does not answer on the socket yet: a server still starting up
      // (initdb takes seconds) or another CLI. Wait for the socket or the lock, then give up clearly.
      if (!(err instanceof EmbeddedDatabaseLockedError) || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function openInProcess(options: EmbeddedDatabaseOptions, serve: boolean): Promise<EmbeddedDatabase> {
  const paths = embeddedPaths(options.dataDir);
  // PGlite has no multi-process locking of its own: two processes writing one directory corrupt it.
  const releaseLock = await acquireLock(paths.lockFile);
  let db: PGlite | undefined;
  let knex: Knex | undefined;
  let socket: SocketServer | undefined;
  const close = async () => {
    await socket?.close(); // first: it rolls back what socket clients left open, through PGlite
    await knex?.destroy();
    await db?.close();
    releaseLock();
  };
  try {
    // Loaded here, not with this module: PGlite is a few MB of heap that a server on Postgres never needs.
    const [{ PGlite: PGliteDatabase }, { default: ClientPGLite }] = await Promise.all([import('@electric-sql/pglite'), import('knex-pglite')]);
    db = await PGliteDatabase.create(paths.pgliteDir);
    const session = createPGliteSession(db);
    const pglite = db;
    // knex-pglite talks to this stand-in: every query takes its turn in the shared session, so it never
    // lands inside a socket client's transaction (nor a client's inside ours).
    const connection = {
      waitReady: pglite.waitReady,
      query: (sql: string, params?: unknown[], queryOptions?: object) =>
        session.runInProcess(() => pglite.query(sql, params, queryOptions)),
      close: async () => {}, // PGlite is closed by close() above, after the socket server
    };
    knex = knexFactory({
      client: ClientPGLite,
      dialect: 'postgres',
      connection: (() => ({ pglite: connection })) as unknown as Knex.Config['connection'],
      searchPath: [options.schema],
      log: options.knexLog,
    });
    if (serve) socket = await serveSocket({ socketDir: paths.socketDir, session, logger: options.logger });
    options.logger.info({ dataDir: paths.pgliteDir, serving: serve }, 'embedded database: opened PGlite');
    return { knex, via: 'pglite', close };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}

function connectToSocket(options: EmbeddedDatabaseOptions): EmbeddedDatabase {
  const { socketDir } = embeddedPaths(options.dataDir);
  const knex = knexFactory({
    client: 'pg',
    // With a folder as host, pg connects to the unix socket `${host}/.s.PGSQL.${port}`; no password needed.
    connection: { host: socketDir, port: SOCKET_PORT, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 3000 },
    searchPath: [options.schema],
    // One connection, like PGlite itself: the server runs one client's exchange or transaction at a time.
    pool: { min: 0, max: 1 },
    acquireConnectionTimeout: 30_000,
    log: options.knexLog,
  });
  options.logger.info({ socketDir }, 'embedded database: connected to the running server');
  return { knex, via: 'socket', close: () => knex.destroy() };
}
