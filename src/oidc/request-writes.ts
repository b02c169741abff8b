// oidc-provider saves the models of one request one after another, each waiting for its own Redis reply (the
// return to /auth after a login destroys the interaction, then saves the grant, the code and the session). Here
// those saves and deletions go out without waiting, so they leave Redis-bound in the same round of the event loop
// (one write, one wake-up of Redis: see coalesceWrites), and are awaited together before the response: nothing is
// answered before what it refers to is stored, and a write that failed still fails the request.
import type { Middleware } from 'koa';
import Provider from 'oidc-provider';

const PENDING = Symbol('pending model writes');

interface PendingWrites {
  writes: Promise<void>[];
  failure?: { error: unknown };
}

// null: the request is watched and has sent no write yet (most requests never do, and allocate nothing here).
type WithPending = { [PENDING]?: PendingWrites | null };

/**
 * Runs a model write: within a request that awaitRequestWrites watches, it is sent at once and awaited with the
 * others before the response; anywhere else (a CLI command, a background task) it is simply awaited. A request's
 * commands share one connection, so a read it makes after a write still sees the write.
 */
export function writeWithinRequest(write: () => Promise<void>): Promise<void> {
  const ctx = Provider.ctx as WithPending | undefined;
  if (!ctx || ctx[PENDING] === undefined) return write();
  const pending = (ctx[PENDING] ??= { writes: [] });
  pending.writes.push(write().catch((error: unknown) => {
    pending.failure ??= { error };
  }));
  return Promise.resolve();
}

// Read through a function: after the `= null` below, TypeScript would take the field to stay null across `await next()`.
const pendingOf = (ctx: WithPending): PendingWrites | null | undefined => ctx[PENDING];

/** Awaits the writes writeWithinRequest sent; when one failed, the request fails with its error instead. */
export function awaitRequestWrites(): Middleware {
  return async (ctx, next) => {
    const watched = ctx as WithPending;
    watched[PENDING] = null;
    try {
      await next();
    } finally {
      // Also on an error: what the request wrote is stored (or has failed) before anything is answered.
      const writes = pendingOf(watched)?.writes;
      while (writes?.length) await (writes.length === 1 ? writes.pop() : Promise.all(writes.splice(0)));
    }
    const failure = pendingOf(watched)?.failure;
    if (failure) {
      // The answer prepared (a redirect carrying a code, tokens) refers to what could not be stored: it must not leave.
      ctx.remove('Location');
      throw failure.error;
    }
  };
}
