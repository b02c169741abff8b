// The password step: attempt limits, account look-up and argon2id verification, with no account enumeration.
import type { Account, Queries } from '../../storage/queries.js';
import type { AttemptLimit } from '../../security/attempt-limits.js';
import { isPasswordTooLong, verifyPassword } from '../../security/passwords.js';

export interface PasswordLoginDeps {
  queries: Pick<Queries, 'accounts'>;
  limits: { account: AttemptLimit; ip: AttemptLimit };
}

export type PasswordLoginResult =
  | { status: 'OK'; account: Account }
  | { status: 'INVALID'; accountId?: string }
  | { status: 'LOCKED'; retryAfterSeconds: number; accountId?: string };

/**
 * Checks a username and password. Unknown user, wrong password and disabled account all answer INVALID after
 * the same argon2 work, so the answer never tells which usernames exist.
 */
export async function verifyPasswordLogin(
  deps: PasswordLoginDeps,
  input: { username: string; password: string; ip: string },
): Promise<PasswordLoginResult> {
  const accountKey = input.username.trim().toLowerCase();
  for (const [limit, key] of [[deps.limits.ip, input.ip], [deps.limits.account, accountKey]] as const) {
    const check = await limit.check(key);
    // While locked even the right password is refused: the lock is not a mere delay (NIST SP 800-63B §3.2.2).
    if (check.status === 'LOCKED') return check;
  }

  const account = accountKey && !isPasswordTooLong(input.password)
    ? await deps.queries.accounts.findByUsername(accountKey)
    : undefined;
  const passwordOk = await verifyPassword(account?.passwordHash, input.password);
  if (account && passwordOk && !account.disabled) {
    await deps.limits.account.reset(accountKey);
    return { status: 'OK', account };
  }

  const ipCheck = await deps.limits.ip.fail(input.ip);
  const accountCheck = await deps.limits.account.fail(accountKey);
  const accountId = account?.id;
  if (accountCheck.status === 'LOCKED') return { ...accountCheck, accountId };
  if (ipCheck.status === 'LOCKED') return { ...ipCheck, accountId };
  return { status: 'INVALID', accountId };
}
