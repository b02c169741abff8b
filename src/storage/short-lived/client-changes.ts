// Tells every node that a client or an account changed, through Redis pub/sub, so each can drop its cached copy at once.
import type { EventEmitter } from 'node:events';
import { Cluster } from 'ioredis';
import type { RedisConnection } from '../../config.js';
import { ClusterSubscriber } from './cluster-subscriber.js';
import { connectRedis, describeRedis, logConnectionState, type RedisClient, type RedisConnectionLogger } from './connect-redis.js';

/** What is cached on each node and announced when it changes. */
export type ChangeTopic = 'clients' | 'accounts';

/** What a node does with news from the channel. */
export interface ClientChangeListener {
  /** A client (or, on the accounts topic, an account) was changed or deleted, on any node, this one included. */
  changed(id: string): void;
  /** Messages may have been missed (the subscriber reconnected): forget everything cached. */
  reset(): void;
}

/** The channel between nodes for changes to clients and accounts. */
export interface ClientChanges {
  /** Announces a change to every node; never throws (a lost message costs at most the cache's TTL). */
  publish(id: string, topic?: ChangeTopic): void;
  /** Registers a listener of this node for `topic` (clients unless named). */
  listen(listener: ClientChangeListener, topic?: ChangeTopic): void;
  close(): Promise<void>;
}

/** What the channel needs of its subscriber connection: a Redis client, or a ClusterSubscriber. */
interface Subscriber extends EventEmitter {
  readonly status: string;
  subscribe(...channels: string[]): Promise<unknown>;
  disconnect(reconnect?: boolean): void;
  quit(): Promise<unknown>;
}

const CONNECTION_NAME = 'twofold-client-changes';

/** The pub/sub channel of `topic` under a Redis prefix (the CLI publishes on it too). */
export const changeChannel = (prefix: string, topic: ChangeTopic) => `${prefix}${topic}`;

/**
 * Opens a subscriber connection for `${prefix}clients` and `${prefix}accounts` and publishes through `publisher` (the main connection, of
 * the same `connection`). With Sentinel the subscriber follows the master; with Cluster it listens on any one node.
 */
export function createRedisClientChanges(options: { connection: RedisConnection; publisher: RedisClient; prefix: string; logger: RedisConnectionLogger }): ClientChanges {
  const channels: Record<ChangeTopic, string> = { clients: changeChannel(options.prefix, 'clients'), accounts: changeChannel(options.prefix, 'accounts') };
  const listeners: Record<ChangeTopic, ClientChangeListener[]> = { clients: [], accounts: [] };
  const everyListener = () => [...listeners.clients, ...listeners.accounts];
  // A connection in subscriber mode can run no other command, hence its own.
  const subscriber = openSubscriber(options);
  let connectedBefore = false;

  subscriber.on('message', (from: string, id: string) => {
    const topic = from === channels.clients ? 'clients' : from === channels.accounts ? 'accounts' : undefined;
    if (topic) for (const listener of listeners[topic]) listener.changed(id);
  });
  // Subscribe on every (re)connection ourselves, so a failed SUBSCRIBE is retried with the next connection.
  subscriber.on('ready', () => {
    subscriber.subscribe(channels.clients, channels.accounts).then(() => {
      // Why: changes published while this node was cut off never reached it, and a stale client could keep a
      // rotated secret or a removed redirect URI working (a stale account, a disabled user's tokens); dropping
      // everything cached is cheap and safe.
      if (connectedBefore) for (const listener of everyListener()) listener.reset();
      connectedBefore = true;
    }, (err: Error) => {
      options.logger.warn({ error: err.message }, 'client change subscription failed; reconnecting');
      subscriber.disconnect(true);
    });
  });

  return {
    publish(id, topic = 'clients') {
      options.publisher.publish(channels[topic], id).catch((err: Error) => {
        options.logger.warn({ topic, id, error: err.message }, 'change not published; other nodes may serve the old copy until their cache expires');
      });
    },
    listen(listener, topic = 'clients') {
      listeners[topic].push(listener);
    },
    async close() {
      if (subscriber.status === 'end') return;
      try {
        await subscriber.quit();
      } catch {
        subscriber.disconnect();
      }
    },
  };
}

function openSubscriber(options: { connection: RedisConnection; publisher: RedisClient; logger: RedisConnectionLogger }): Subscriber {
  const { connection } = options;
  if (connection.mode !== 'cluster') return connectRedis(connection, options.logger, { connectionName: CONNECTION_NAME, subscriber: true });
  if (!(options.publisher instanceof Cluster)) throw new TypeError('a Redis Cluster connection needs a Cluster client as publisher');
  const subscriber = new ClusterSubscriber(connection, options.publisher, CONNECTION_NAME);
  logConnectionState(subscriber, { ...describeRedis(connection), connection: CONNECTION_NAME }, options.logger);
  return subscriber;
}
