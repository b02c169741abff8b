// Full sysadmin logins in a closed loop, each recorded with when it started and ended and how it went.
import type { SeededUser } from '../seed.js';
import type { BenchContext } from '../scenarios/context.js';
import { signIn, takeSysadmin } from '../scenarios/login.js';
import { classifyFailure, type Failure } from './classify-failure.js';

export interface Attempt {
  /** performance.now() when the login started and when it ended. */
  start: number;
  end: number;
  user: SeededUser;
  /** Undefined when the login reached the client and its ID token checked out. */
  failure?: Failure;
}

export interface LoginLoad {
  /** Every finished attempt so far, in the order they ended. */
  readonly attempts: Attempt[];
  /** Lets every virtual user finish its current login, then stops. */
  stop(): Promise<void>;
}

// After a failure a virtual user waits a little, as a person would before retrying; a failing login must not spin.
const PAUSE_AFTER_FAILURE_MS = 200;

/** Starts `concurrency` virtual users signing sysadmins in (password + TOTP + token exchange) until stop(). */
export function startLoginLoad(ctx: BenchContext, concurrency: number): LoginLoad {
  const attempts: Attempt[] = [];
  let stopping = false;
  const hangMs = ctx.requestTimeoutMs ?? Infinity;
  const users = Array.from({ length: concurrency }, async () => {
    while (!stopping) {
      const { user, code } = await takeSysadmin(ctx.seeded.sysadmins);
      const start = performance.now();
      try {
        await signIn(ctx, user.username, code);
        attempts.push({ start, end: performance.now(), user });
      } catch (err) {
        attempts.push({ start, end: performance.now(), user, failure: classifyFailure(err, hangMs) });
        await new Promise((resolve) => setTimeout(resolve, PAUSE_AFTER_FAILURE_MS));
      }
    }
  });
  return {
    attempts,
    async stop() {
      stopping = true;
      await Promise.all(users);
    },
  };
}
