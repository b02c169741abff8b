// A subscriber connection on Redis Cluster: a PUBLISH reaches every node of a cluster, so it listens on one node at a
// time and moves to another node whenever that connection ends.
import { EventEmitter } from 'node:events';
import { Redis, type Cluster } from 'ioredis';
import type { RedisAddress, RedisConnection } from '../../config.js';
import { dataNodeOptions, reconnectDelay, SERVER_OPTIONS } from './connect-redis.js';

/**
 * Emits 'ready' for every new connection (the channel must then be subscribed again, and messages published in
 * between were missed), and 'message', 'reconnecting' and 'error' like a Redis client.
 */
export class ClusterSubscriber extends EventEmitter {
  private current: Redis | undefined;
  private turn = 0;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /** `cluster` is the main client: it follows the cluster's topology, so it knows the nodes there are now. */
  constructor(private readonly connection: Extract<RedisConnection, { mode: 'cluster' }>, private readonly cluster: Cluster, private readonly connectionName: string) {
    super();
    this.connect();
  }

  get status(): string {
    return this.closed ? 'end' : this.current?.status ?? 'reconnecting';
  }

  subscribe(...channels: string[]): Promise<unknown> {
    return this.current ? this.current.subscribe(...channels) : Promise.reject(new Error('Connection is closed.'));
  }

  /** Drops the connection; the next one goes to another node. */
  disconnect(): void {
    this.current?.disconnect();
  }

  async quit(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const current = this.current;
    if (!current || current.status === 'end') return;
    try {
      await current.quit();
    } catch {
      current.disconnect();
    }
  }

  // The nodes the main client knows now, then the configured ones, in turn.
  private nextAddress(): RedisAddress {
    const known = this.cluster.nodes('all').map(({ options }) => ({ host: options.host ?? '', port: options.port ?? 6379 })).filter(({ host }) => host);
    const unique = new Map([...known, ...this.connection.nodes].map((address) => [`${address.host}:${address.port}`, address]));
    const addresses = [...unique.values()];
    return addresses[this.turn++ % addresses.length]!;
  }

  private connect(): void {
    const { db: _database, ...credentials } = dataNodeOptions(this.connection.url);
    const { host, port } = this.nextAddress();
    const redis = new Redis({
      ...SERVER_OPTIONS,
      ...credentials,
      host,
      port,
      connectionName: this.connectionName,
      autoResubscribe: false,
      // This connection ends instead of retrying its node: the next connection goes to another one.
      retryStrategy: () => null,
    });
    this.current = redis;
    redis.on('error', (err: Error) => this.emit('error', err));
    redis.on('message', (channel: string, message: string) => this.emit('message', channel, message));
    redis.on('ready', () => {
      this.attempt = 0;
      this.emit('ready');
    });
    redis.once('end', () => {
      if (this.closed || this.current !== redis) return;
      this.emit('reconnecting');
      this.timer = setTimeout(() => this.connect(), reconnectDelay(++this.attempt));
    });
  }
}
