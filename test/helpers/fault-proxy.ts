// A TCP proxy in front of a real server (Postgres, Redis) that a test or `npm run bench -- --faults` cuts and restores.
import net from 'node:net';

export type CutMode = 'reset' | 'close' | 'blackhole';

export interface FaultProxy {
  /** The port the proxy listens on, on 127.0.0.1. */
  port: number;
  /** `target` (a postgres:// or redis:// URL) with its host and port replaced by the proxy's. */
  urlFor(target: string): string;
  /**
   * Makes the server look down until restore(). 'reset' (default) resets every open and new connection, as when
   * the host is gone; 'close' ends them politely, as a server shutting down does; 'blackhole' accepts and
   * keeps connections but lets no byte through, as a network partition does (clients must time out).
   */
  cut(mode?: CutMode): void;
  /** Passes connections through again. */
  restore(): void;
  /** How many connections the proxy has accepted (and passed through) so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1:<ephemeral> forwarding to `target` (host and port of the real server). */
export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  // Client side of every live connection, with its upstream; held ones are blackholed clients awaiting restore().
  const links = new Map<net.Socket, net.Socket>();
  const held = new Set<net.Socket>();
  // Every socket the proxy holds, whatever its state, so close() can end them all.
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  let cutMode: CutMode | undefined;
  let accepted = 0;

  /** Cuts one client connection the given way; its upstream (if any) is dropped. */
  const cutClient = (client: net.Socket, mode: CutMode) => {
    const upstream = links.get(client);
    links.delete(client);
    client.unpipe();
    upstream?.unpipe();
    upstream?.destroy();
    if (client.destroyed) return;
    if (mode === 'reset') client.resetAndDestroy();
    else if (mode === 'close') client.end();
    else {
      client.pause();
      held.add(client);
      client.on('close', () => held.delete(client));
    }
  };

  const server = net.createServer((client) => {
    track(client);
    client.on('error', () => {});
    if (cutMode) {
      cutClient(client, cutMode);
      return;
    }
    accepted++;
    const upstream = net.connect(target.port, target.host);
    track(upstream);
    links.set(client, upstream);
    upstream.on('error', () => {});
    // One side gone: the other goes too, as it would through a real network path.
    upstream.on('close', (hadError) => {
      if (links.get(client) === upstream) cutClient(client, hadError ? 'reset' : 'close');
    });
    client.on('close', () => {
      links.delete(client);
      upstream.destroy();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    urlFor(targetUrl) {
      const url = new URL(targetUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    cut(mode = 'reset') {
      cutMode = mode;
      for (const client of [...links.keys()]) cutClient(client, mode);
    },
    restore() {
      cutMode = undefined;
      for (const socket of held) socket.resetAndDestroy();
      held.clear();
    },
    get connections() {
      return accepted;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Host and port of a postgres:// or redis:// URL, with the protocol's default port. */
export function targetOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  const defaultPort = parsed.protocol.startsWith('redis') ? 6379 : 5432;
  return { host: parsed.hostname || '127.0.0.1', port: parsed.port ? Number(parsed.port) : defaultPort };
}
