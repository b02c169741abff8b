// Tells every node that a client changed, through Redis pub/sub, so each can drop its cached copy at once.
import type { Redis } from 'ioredis';
import { connectRedis, type RedisConnectionLogger } from './connect-redis.js';

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

/** Opens a subscriber connection for `${prefix}clients` and publishes through `publisher`. */
export function createRedisClientChanges(options: { url: string; publisher: Redis; prefix: string; logger: RedisConnectionLogger }): ClientChanges {
  const channel = `${options.prefix}clients`;
  const listeners: ClientChangeListener[] = [];
  // A connection in subscriber mode can run no other command, hence its own; auto-pipelining does not apply to it.
  const subscriber = connectRedis(options.url, options.logger, { connectionName: 'twofold-client-changes', enableAutoPipelining: false, autoResubscribe: false });
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
