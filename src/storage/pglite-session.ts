// Shares PGlite's one Postgres session between in-process queries and socket clients, one whole exchange at a time.
//
// PGlite is a single backend session. pglite-socket's own queue interleaves clients message by message,
// so when a client's Parse/Bind/Execute/Sync arrive in separate TCP chunks another client's Parse can
// replace the unnamed statement in between (measured: wrong results and errors under load). Here a client
// owns the session from its first message until Postgres says ReadyForQuery "idle": a whole
// extended-protocol exchange and a whole transaction run without anybody else's messages in between.
import type { PGlite } from '@electric-sql/pglite';

/** Owner id of the server's own knex; socket connections own the session by their handler id (from 1). */
const IN_PROCESS = 0;

const READY_FOR_QUERY = [0x5a, 0, 0, 0, 5]; // 'Z', length 5, then the transaction status byte
const STATUS_IDLE = 0x49; // 'I': not in a transaction block

/** The object PGLiteSocketHandler calls (same shape as pglite-socket's internal QueryQueueManager). */
export interface PGliteSession {
  /** Runs one protocol message of socket client `owner`, streaming the answer to `onData`. */
  enqueue(owner: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number>;
  /** Drops the messages still waiting from a client that disconnected. */
  clearQueueForHandler(owner: number): void;
  /** Aborts whatever a disconnected client left open (half an exchange, a transaction) and frees the session. */
  clearTransactionIfNeeded(owner: number): Promise<void>;
  /** Runs an in-process PGlite call (knex-pglite) as one turn; the session stays ours while a transaction is open. */
  runInProcess<T>(fn: () => Promise<T>): Promise<T>;
}

interface Turn {
  owner: number;
  /** Runs the turn, settles its caller, and says whether the session is idle (free) afterwards. */
  run(): Promise<boolean>;
  reject(err: Error): void;
}

/** Creates the session arbiter for one PGlite instance. */
export function createPGliteSession(db: PGlite): PGliteSession {
  let owner: number | undefined;
  let pending: Turn[] = [];
  let draining = false;

  async function drain(): Promise<void> {
    if (draining) return;
    draining = true;
    try {
      for (;;) {
        // While somebody owns the session only their turns may run; everybody else waits in order.
        const index = owner === undefined ? 0 : pending.findIndex((turn) => turn.owner === owner);
        const turn = index >= 0 ? pending[index] : undefined;
        if (!turn) break;
        pending.splice(index, 1);
        owner = turn.owner;
        if (await turn.run()) owner = undefined;
      }
    } finally {
      draining = false;
    }
  }

  function schedule(turn: Turn, first = false): void {
    if (first) pending.unshift(turn);
    else pending.push(turn);
    void drain();
  }

  return {
    enqueue(client, message, onData) {
      return new Promise<number>((resolve, reject) => {
        schedule({
          owner: client,
          reject,
          async run() {
            let size = 0;
            let tail: Uint8Array = new Uint8Array(0);
            try {
              await db.runExclusive(() =>
                db.execProtocolRawStream(message, {
                  onRawData(data) {
                    size += data.length;
                    tail = lastBytes(tail, data, 6);
                    onData(data);
                  },
                }),
              );
            } catch (err) {
              reject(err as Error);
              return true; // PGlite itself failed; do not let one broken client block everybody else
            }
            resolve(size);
            return endsIdle(tail);
          },
        });
      });
    },

    clearQueueForHandler(client) {
      const dropped = pending.filter((turn) => turn.owner === client);
      pending = pending.filter((turn) => turn.owner !== client);
      for (const turn of dropped) turn.reject(new Error('Handler disconnected'));
    },

    clearTransactionIfNeeded(client) {
      if (owner !== client) return Promise.resolve();
      return new Promise<void>((resolve) => {
        schedule(
          {
            owner: client,
            reject: () => resolve(),
            async run() {
              try {
                // Like a backend whose client vanished: abort, never commit, what it left half done.
                await db.runExclusive(() => db.execProtocolRawStream(ABORT_EXCHANGE, { onRawData: () => {} }));
                if (db.isInTransaction()) await db.exec('ROLLBACK');
              } catch {
                // The database is closing; nothing left to clean.
              }
              resolve();
              return true;
            },
          },
          true,
        );
      });
    },

    runInProcess(fn) {
      return new Promise((resolve, reject) => {
        schedule({
          owner: IN_PROCESS,
          reject,
          async run() {
            try {
              resolve(await fn());
            } catch (err) {
              reject(err as Error);
            }
            return !safeInTransaction(db);
          },
        });
      });
    },
  };
}

/** Execute of a portal that does not exist (an error, so the implicit transaction rolls back), then Sync. */
const ABORT_EXCHANGE = (() => {
  const portal = Buffer.from('twofold_abandoned\0', 'utf8');
  const execute = Buffer.alloc(1 + 4 + portal.length + 4);
  execute.write('E', 0, 'ascii');
  execute.writeInt32BE(4 + portal.length + 4, 1);
  portal.copy(execute, 5);
  execute.writeInt32BE(0, 5 + portal.length);
  return new Uint8Array(Buffer.concat([execute, Buffer.from([0x53, 0, 0, 0, 4])]));
})();

function lastBytes(previous: Uint8Array, data: Uint8Array, count: number): Uint8Array {
  // Copies (slice), since PGlite may reuse the buffer it hands to onRawData.
  if (data.length >= count) return data.slice(data.length - count);
  const joined = new Uint8Array(previous.length + data.length);
  joined.set(previous);
  joined.set(data, previous.length);
  return joined.slice(Math.max(0, joined.length - count));
}

/** True when the answer ended with ReadyForQuery 'I': the exchange is over and no transaction is open. */
function endsIdle(tail: Uint8Array): boolean {
  return tail.length === 6 && READY_FOR_QUERY.every((byte, i) => tail[i] === byte) && tail[5] === STATUS_IDLE;
}

function safeInTransaction(db: PGlite): boolean {
  try {
    return db.isInTransaction();
  } catch {
    return false;
  }
}
