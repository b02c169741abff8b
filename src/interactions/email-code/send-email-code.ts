// "Problems with the code": a one-time code sent to the profile's verified email address, bound to this login.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Mailer } from '../../mail/mailer.js';
import type { AttemptLimit, LimitCheck } from '../../security/attempt-limits.js';
import type { OneTimeCodes } from '../../security/one-time-code.js';
import type { Clock } from '../../security/totp.js';
import type { Queries } from '../../storage/queries.js';
import type { ShortLivedStore } from '../../storage/short-lived/short-lived-store.js';

/** An email code is valid for 5 minutes (the user guide, section 4). */
export const EMAIL_CODE_TTL_SECONDS = 5 * 60;

export interface StoredEmailCode {
  accountId: string;
  hash: string;
  /** Epoch milliseconds, by the server's clock. */
  issuedAt: number;
}

export interface EmailCodeDeps {
  queries: Pick<Queries, 'accounts'>;
  store: ShortLivedStore;
  mailer: Mailer;
  codes: OneTimeCodes;
  clock: Clock;
  limits: { emailSendAccount: AttemptLimit; emailSendAccountHourly: AttemptLimit; emailSendIp: AttemptLimit };
  sendTimer: SendTimer;
}

export type SendEmailCodeResult =
  | { status: 'SENT'; email: string }
  /** No verified address, and the caller asked to answer as if a code was sent (the login; see sendEmailCode). */
  | { status: 'NOT_SENT' }
  | { status: 'NO_EMAIL' }
  | { status: 'LIMITED'; retryAfterSeconds: number }
  | { status: 'SEND_FAILED' };

/** Where the code of a login is kept; one per login, so sending a new code makes the older one useless. */
export function emailCodeKey(uid: string): string {
  return `email-code:${uid}`;
}

/** The context a code's HMAC is bound to: this login and this account. */
export function emailCodeContext(uid: string, accountId: string): string {
  return `${uid}:${accountId}`;
}

/** How long sending a code takes here, so that not sending one can take as long. */
export interface SendTimer {
  record(ms: number): void;
  /** The recent typical send time, with a little jitter. */
  typicalMs(): number;
}

/** A moving average of successful sends, starting at `initialMs`; a slow outlier moves it only a little. */
export function createSendTimer(initialMs = 100): SendTimer {
  let average = initialMs;
  return {
    record(ms) {
      // Capped so that one send stuck for seconds does not make the next pretended sends that slow.
      average = 0.8 * average + 0.2 * Math.min(Math.max(ms, 0), 2_000);
    },
    typicalMs: () => average * (0.9 + Math.random() * 0.2),
  };
}

/**
 * Sends a new code if the account has a verified address and the sending limits allow it.
 *
 * With `pretend`, an account without one answers NOT_SENT after the same limits, the same wait and the same stored
 * state as a real send: a stored code that no typed code matches, so every guess fails as a mistyped one. The
 * login's "Problems with the code" uses this, so that someone holding only the password cannot learn whether an
 * email is on file (ASVS 6.3.8). Only a failing SMTP server can still tell the two apart: only a real send can fail.
 */
export async function sendEmailCode(
  deps: EmailCodeDeps,
  input: { uid: string; accountId: string; ip: string; pretend?: boolean },
): Promise<SendEmailCodeResult> {
  const found = await deps.queries.accounts.findById(input.accountId);
  // Only a verified address is a back-up: an unverified one may be a typo, or someone else's.
  const account = found && !found.disabled && found.emailVerifiedAt ? found : undefined;
  if (!account && !input.pretend) return { status: 'NO_EMAIL' };

  const checks: [AttemptLimit, string][] = [
    [deps.limits.emailSendAccount, input.accountId],
    [deps.limits.emailSendAccountHourly, input.accountId],
    [deps.limits.emailSendIp, input.ip],
  ];
  const waits = await Promise.all(checks.map(([limit, key]) => limit.check(key)));
  const longest = waits.reduce<LimitCheck>((worst, check) => (check.status === 'LOCKED' && (worst.status !== 'LOCKED' || check.retryAfterSeconds > worst.retryAfterSeconds) ? check : worst), { status: 'ALLOWED' });
  if (longest.status === 'LOCKED') return { status: 'LIMITED', retryAfterSeconds: longest.retryAfterSeconds };

  const code = deps.codes.generate();
  if (account) {
    const started = performance.now();
    const sent = await deps.mailer.send({ to: account.email, template: 'email-code', locals: { name: account.name, code, minutes: EMAIL_CODE_TTL_SECONDS / 60 } });
    // Stored only after the mail left: a code nobody received is never valid, and a failed send costs no quota.
    if (sent.status !== 'SENT') return { status: 'SEND_FAILED' };
    deps.sendTimer.record(performance.now() - started);
  } else {
    await sleep(deps.sendTimer.typicalMs());
  }
  // Without an address the hash is of a random value that is not 6 digits: no typed code can ever match it, so a
  // pretended send opens no way in, while the store holds the same kind of entry either way.
  const hashed = account ? code : randomBytes(16).toString('hex');
  const entry: StoredEmailCode = { accountId: input.accountId, hash: deps.codes.hash(hashed, emailCodeContext(input.uid, input.accountId)), issuedAt: deps.clock() };
  await deps.store.setJson(emailCodeKey(input.uid), entry, EMAIL_CODE_TTL_SECONDS);
  await deps.store.remove(`${emailCodeKey(input.uid)}:attempts`);
  await Promise.all(checks.map(([limit, key]) => limit.fail(key)));
  return account ? { status: 'SENT', email: account.email } : { status: 'NOT_SENT' };
}
