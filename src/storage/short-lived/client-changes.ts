// Tells every node that a client changed, through Redis pub/sub, so each can drop its cached copy at once.
import type { EventEmitter } from 'node:events';
import { Cluster } from 'ioredis';
import type { RedisConnection } from '../../config.js';
import { ClusterSubscriber } from './cluster-subscriber.js';
import { connectRedis, describeRedis, logConnectionState, type RedisClient, type RedisConnectionLogger } from './connect-redis.js';

/** What a node does with news from the channel. */
export interface ClientChangeListener {
  /** A client was changed or deleted (on any node, this one included). */
  changed(clientId: string): void;
  /** Messages may have been missed (the subscriber reconnected): forget every client. */
  reset(): void;
}

/** The channel between nodes for client changes. */
export interface ClientChanges {
  /** Announces a change to every node; never throws (a lost message costs at most the cache's TTL). */
  publish(clientId: string): void;
  /** Registers the listener of this node. */
  listen(listener: ClientChangeListener): void;
  close(): Promise<void>;
}

/** What the channel needs of its subscriber connection: a Redis client, or a ClusterSubscriber. */
interface Subscriber extends EventEmitter {
  readonly status: string;
  subscribe(channel: string): Promise<unknown>;
  disconnect(reconnect?: boolean): void;
  quit(): Promise<unknown>;
}

const CONNECTION_NAME = 'twofold-client-changes';

/**
 * Opens a subscriber connection for `${prefix}clients` and publishes through `publisher` (the main connection, of
 * the same `connection`). With Sentinel the subscriber follows the master; with Cluster it listens on any one node.
 */
export function createRedisClientChanges(options: { connection: RedisConnection; publisher: RedisClient; prefix: string; logger: RedisConnectionLogger }): ClientChanges {
  const channel = `${options.prefix}clients`;
  const listeners: ClientChangeListener[] = [];
  // A connection in subscriber mode can run no other command, hence its own.
  const subscriber = openSubscriber(options);
  let connectedBefore = false;

  subscriber.on('message', (from: string, clientId: string) => {
    if (from === channel) for (const listener of listeners) listener.changed(clientId);
  });
  // Subscribe on every (re)connection ourselves, so a failed SUBSCRIBE is retried with the next connection.
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).then(() => {
      // Why: changes published while this node was cut off never reached it, and a stale client could keep a
      // rotated secret or a removed redirect URI working; dropping every cached client is cheap and safe.
      if (connectedBefore) for (const listener of listeners) listener.reset();
      connectedBefore = true;
    }, (err: Error) => {
      options.logger.warn({ error: err.message }, 'client change subscription failed; reconnecting');
      subscriber.disconnect(true);
    });
  });

  return {
    publish(clientId) {
      options.publisher.publish(channel, clientId).catch((err: Error) => {
        options.logger.warn({ clientId, error: err.message }, 'client change not published; other nodes may serve the old client until their cache expires');
      });
    },
    listen(listener) {
      listeners.push(listener);
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
