// "Problems with the code": a one-time code sent to the profile's verified email address, bound to this login.
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
}

export type SendEmailCodeResult =
  | { status: 'SENT'; email: string }
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

/** Sends a new code if the account has a verified address and the sending limits allow it. */
export async function sendEmailCode(deps: EmailCodeDeps, input: { uid: string; accountId: string; ip: string }): Promise<SendEmailCodeResult> {
  const account = await deps.queries.accounts.findById(input.accountId);
  // Only a verified address is a back-up: an unverified one may be a typo, or someone else's.
  if (!account || account.disabled || !account.emailVerifiedAt) return { status: 'NO_EMAIL' };

  const checks: [AttemptLimit, string][] = [
    [deps.limits.emailSendAccount, account.id],
    [deps.limits.emailSendAccountHourly, account.id],
    [deps.limits.emailSendIp, input.ip],
  ];
  const waits = await Promise.all(checks.map(([limit, key]) => limit.check(key)));
  const longest = waits.reduce<LimitCheck>((worst, check) => (check.status === 'LOCKED' && (worst.status !== 'LOCKED' || check.retryAfterSeconds > worst.retryAfterSeconds) ? check : worst), { status: 'ALLOWED' });
  if (longest.status === 'LOCKED') return { status: 'LIMITED', retryAfterSeconds: longest.retryAfterSeconds };

  const code = deps.codes.generate();
  const sent = await deps.mailer.send({ to: account.email, template: 'email-code', locals: { name: account.name, code, minutes: EMAIL_CODE_TTL_SECONDS / 60 } });
  // Stored only after the mail left: a code nobody received is never valid, and a failed send costs no quota.
  if (sent.status !== 'SENT') return { status: 'SEND_FAILED' };
  const stored: StoredEmailCode = { accountId: account.id, hash: deps.codes.hash(code, emailCodeContext(input.uid, account.id)), issuedAt: deps.clock() };
  await deps.store.setJson(emailCodeKey(input.uid), stored, EMAIL_CODE_TTL_SECONDS);
  await deps.store.remove(`${emailCodeKey(input.uid)}:attempts`);
  await Promise.all(checks.map(([limit, key]) => limit.fail(key)));
  return { status: 'SENT', email: account.email };
}
