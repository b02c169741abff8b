// When wrong codes lock an account's second factor, its owner hears of it: the password is probably known.
import { minutesToWait } from '../security/attempt-limits.js';
import type { InteractionDeps } from './deps.js';

/** Emails the account that its second factor is locked; a failed send is logged, never shown. */
export async function notifyLockout(deps: Pick<InteractionDeps, 'queries' | 'mailer' | 'logger'>, accountId: string, lockSeconds: number): Promise<void> {
  const account = await deps.queries.accounts.findById(accountId);
  if (!account) return;
  const sent = await deps.mailer.send({ to: account.email, template: 'second-factor-locked', locals: { name: account.name, minutes: minutesToWait(lockSeconds) } });
  if (sent.status !== 'SENT') deps.logger.warn({ accountId, event: 'notify.second_factor_locked' }, 'could not send the lockout notice');
}
