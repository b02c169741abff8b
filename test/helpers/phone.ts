// A stand-in for the phone: a controllable clock and the authenticator app's codes.
import { totpCodeAt, timeStepAt } from '../../src/security/totp.js';
import type { TestApp } from './app.js';

/**
 * A clock tests move by hand, starting at the real time when it is first read or set. Not when it is created: suites
 * create theirs as mocha loads every file, minutes before a late file runs, and the sessions oidc-provider starts
 * carry the real time (a clock that far behind would make "11 minutes later" less than ten after a login).
 */
export class TestClock {
  #now: number | undefined;
  get now(): number {
    return (this.#now ??= Date.now());
  }
  set now(ms: number) {
    this.#now = ms;
  }
  readonly read = () => this.now;
  /** Moves to the next 30-second time step, so a fresh code exists. */
  nextStep(): void {
    this.now = (timeStepAt(this.now) + 1) * 30_000 + 1_000;
  }
}

/** The code an authenticator app with `secret` shows at the clock's time (plus `offsetSteps` steps). */
export function codeFor(secret: string, clock: TestClock, offsetSteps = 0): string {
  return totpCodeAt(secret, clock.now + offsetSteps * 30_000);
}

/** Connects an authenticator to an account directly in storage, as if setup had been done earlier. */
export async function connectAuthenticator(app: TestApp, accountId: string, secret: string): Promise<void> {
  await app.queries.totp.connect(accountId, secret, 0);
}

/** The base32 secret shown for manual entry on the setup wizard's step 2. */
export function secretOnPage(html: string): string {
  const input = /<input[^>]*id="key-copy"[^>]*>/.exec(html)?.[0];
  const secret = input ? /value="([A-Z2-7]+)"/.exec(input)?.[1] : undefined;
  if (!secret) throw new Error(`no key on the page:\n${html.slice(0, 1500)}`);
  return secret;
}
