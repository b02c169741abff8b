// Free TCP ports on 127.0.0.1 for the servers tests start.
import net from 'node:net';

/**
 * `count` different ports nobody listens on now. All are held open together before any is released: asked one
 * after another, the kernel may hand out a port it just gave back.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => net.createServer());
  try {
    await Promise.all(servers.map((server) => new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    })));
    return servers.map((server) => (server.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => (server.listening ? server.close(resolve) : resolve(undefined)))));
  }
}

/** One port nobody listens on now. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}
