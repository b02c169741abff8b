// Serves the embedded PGlite to other local processes (the admin CLI) over a private unix socket.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { PGLiteSocketHandlerOptions } from '@electric-sql/pglite-socket';
import type { PGLiteSocketHandler } from '@electric-sql/pglite-socket';
import type { Logger } from '../logger.js';
import type { PGliteSession } from './pglite-session.js';

/** The socket file name `pg` looks for when `host` is the folder and `port` is 5432. */
export const SOCKET_PORT = 5432;
const MAX_CONNECTIONS = 16;
// sun_path is 108 bytes on Linux (104 on macOS), including the final NUL.
const MAX_SOCKET_PATH = 103;

export interface SocketServer {
  /** Disconnects every client (rolling back what they left open) and stops listening. */
  close(): Promise<void>;
}

/** The socket file inside `socketDir`. */
export function socketFile(socketDir: string): string {
  return path.join(socketDir, `.s.PGSQL.${SOCKET_PORT}`);
}

/** Listens on `${socketDir}/.s.PGSQL.5432`; the caller must hold the data directory lock (a stale socket file is removed). */
export async function serveSocket(options: { socketDir: string; session: PGliteSession; logger: Logger }): Promise<SocketServer> {
  const file = socketFile(options.socketDir);
  if (Buffer.byteLength(file) > MAX_SOCKET_PATH) {
    throw new Error(`The embedded database socket path is too long for a unix socket (${file}); use a shorter DATA_DIR`);
  }
  // The socket has no password: whoever can open it has the whole database. A 0700 folder limits that
  // to the user running the server (checked by the kernel on connect), whatever the umask.
  mkdirSync(options.socketDir, { recursive: true, mode: 0o700 });
  chmodSync(options.socketDir, 0o700);
  rmSync(file, { force: true }); // left by a crashed server; we hold the lock, so no live server owns it

  // pglite-socket's handler does the wire framing; the shared session decides whose turn it is.
  const { PGLiteSocketHandler: SocketHandler } = await import('@electric-sql/pglite-socket');
  const queryQueue = options.session as unknown as PGLiteSocketHandlerOptions['queryQueue'];
  const handlers = new Set<PGLiteSocketHandler>();
  const server = net.createServer((socket) => {
    if (handlers.size >= MAX_CONNECTIONS) {
      options.logger.warn({ max: MAX_CONNECTIONS }, 'embedded database: too many socket connections, refusing one');
      socket.destroy();
      return;
    }
    const handler = new SocketHandler({ queryQueue, closeOnDetach: true });
    handlers.add(handler);
    handler.addEventListener('close', () => handlers.delete(handler));
    handler.addEventListener('error', () => handlers.delete(handler));
    handler.attach(socket).catch((err: unknown) => {
      handlers.delete(handler);
      options.logger.warn({ err }, 'embedded database: could not attach a socket client');
      socket.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(file, 0o600);
  server.on('error', (err) => options.logger.error({ err }, 'embedded database: socket server error'));
  options.logger.info({ socket: file }, 'embedded database: listening for local clients');

  return {
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...handlers].map((handler) => handler.detach(true)));
      handlers.clear();
      await closed;
      rmSync(file, { force: true });
    },
  };
}

/** True when something accepts connections on the socket in `socketDir` (a running server). */
export function socketAcceptsConnections(socketDir: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketFile(socketDir));
    const done = (accepted: boolean) => {
      socket.destroy();
      resolve(accepted);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
