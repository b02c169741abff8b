// The password step: attempt limits, account look-up and argon2id verification, with no account enumeration.
import type { Account, Queries } from '../../storage/queries.js';
import type { AttemptLimit } from '../../security/attempt-limits.js';
import { isPasswordTooLong, verifyPassword } from '../../security/passwords.js';
import { accountView, type AccountCache } from '../../oidc/account-cache.js';

export interface PasswordLoginDeps {
  queries: Pick<Queries, 'accounts'>;
  limits: { account: AttemptLimit; ip: AttemptLimit };
  /** Given the account read here, so the rest of the login (and its tokens) need not read it again. */
  accounts?: Pick<AccountCache, 'mark' | 'offer'>;
}

export type PasswordLoginResult =
  /** `failuresBefore`: wrong passwords in a row for this username before this right one. */
  /** `totpSealed`: the authenticator's secret as stored, for the code step (see LoginState.totpSealed). */
  | { status: 'OK'; account: Account; hasTotp: boolean; totpSealed?: string; failuresBefore: number }
  | { status: 'INVALID'; accountId?: string }
  /** `accountLocked` when this very failure locked the username of an existing account (its owner is told). */
  | { status: 'LOCKED'; retryAfterSeconds: number; accountId?: string; accountLocked?: boolean };

/**
 * Checks a username and password. Unknown user, wrong password and disabled account all answer INVALID after
 * the same argon2 work, so the answer never tells which usernames exist.
 */
export async function verifyPasswordLogin(
  deps: PasswordLoginDeps,
  input: { username: string; password: string; ip: string },
  /** What must hold before any password is checked or counted (the interaction); awaited with the reads. */
  precondition?: Promise<unknown>,
): Promise<PasswordLoginResult> {
  const accountKey = input.username.trim().toLowerCase();
  const mark = deps.accounts?.mark();
  const lookUp = accountKey && !isPasswordTooLong(input.password) ? deps.queries.accounts.findForLogin(accountKey) : Promise.resolve(undefined);
  // The limits and the account are read at once (one round trip each way); the password is only checked after.
  const [ipCheck, accountCheck, found] = await Promise.all([deps.limits.ip.check(input.ip), deps.limits.account.check(accountKey), lookUp, precondition]);
  // While locked even the right password is refused: the lock is not a mere delay (NIST SP 800-63B §3.2.2).
  if (ipCheck.status === 'LOCKED') return ipCheck;
  if (accountCheck.status === 'LOCKED') return accountCheck;

  const account = found?.account;
  const passwordOk = await verifyPassword(account?.passwordHash, input.password);
  if (found && account && passwordOk && !account.disabled) {
    if (accountCheck.failures) await deps.limits.account.reset(accountKey);
    deps.accounts?.offer(account.id, accountView(account, found.hasTotp), mark!);
    return { status: 'OK', account, hasTotp: found.hasTotp, ...(found.totpSealed ? { totpSealed: found.totpSealed } : {}), failuresBefore: accountCheck.failures ?? 0 };
  }

  const [ipAfter, accountAfter] = await Promise.all([deps.limits.ip.fail(input.ip), deps.limits.account.fail(accountKey)]);
  const accountId = account?.id;
  if (accountAfter.status === 'LOCKED') return { ...accountAfter, accountId, accountLocked: accountId !== undefined && !account?.disabled };
  if (ipAfter.status === 'LOCKED') return { ...ipAfter, accountId };
  return { status: 'INVALID', accountId };
}
