// Waiting for something asynchronous to happen (a pub/sub message, a timer on another node), with a deadline.

/**
 * Polls `check` every `everyMs` until it holds, for at most `ms`; true if it did. A check that throws counts as
 * not yet (e.g. a connection that is still coming back).
 */
export async function within(ms: number, check: () => boolean | Promise<boolean>, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await Promise.resolve().then(check).catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
