// When failures lock an account, its owner hears of it (ASVS 6.3.5): wrong passwords mean someone may be guessing,
// wrong codes after the right password mean the password is probably known.
import { minutesToWait } from '../security/attempt-limits.js';
import type { InteractionDeps } from './deps.js';

/**
 * Emails the account that its password or second factor is locked; a failed send is logged, never shown. Sent only
 * by the failure that starts a lock, so at most once per lock.
 */
export async function notifyLockout(
  deps: Pick<InteractionDeps, 'queries' | 'mailer' | 'logger'>,
  accountId: string,
  template: 'password-locked' | 'second-factor-locked',
  lockSeconds: number,
): Promise<void> {
  const account = await deps.queries.accounts.findById(accountId);
  if (!account) return;
  const sent = await deps.mailer.send({ to: account.email, template, locals: { name: account.name, minutes: minutesToWait(lockSeconds) } });
  if (sent.status !== 'SENT') deps.logger.warn({ accountId, event: `notify.${template}` }, 'could not send the lockout notice');
}
