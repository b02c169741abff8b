// The right password after several wrong ones may be a guess that worked: its owner hears of it (ASVS 6.3.5).
import type { RequestOrigin } from '../../security/audit.js';
import type { Account } from '../../storage/queries.js';
import type { InteractionDeps } from '../deps.js';

/** Wrong passwords in a row before a right one that make it worth telling the owner. */
export const NOTICE_AFTER_FAILURES = 3;

/**
 * Emails the owner that their password was entered after `failures` wrong ones, with where from. Not awaited by
 * the login: a failed send is logged, never shown.
 */
export function notifyPasswordAfterFailures(
  deps: Pick<InteractionDeps, 'mailer' | 'logger' | 'clock'>,
  account: Account,
  failures: number,
  origin: RequestOrigin,
): void {
  const locals = { name: account.name, failures, when: new Date(deps.clock()), ip: origin.ip, userAgent: origin.userAgent ?? 'unknown' };
  deps.mailer
    .send({ to: account.email, template: 'password-after-failures', locals })
    .then((sent) => sent.status === 'SENT' || Promise.reject(new Error(`not sent: ${sent.status}`)))
    .catch((err: unknown) => {
      deps.logger.warn({ accountId: account.id, err: { message: (err as Error).message }, event: 'notify.password_after_failures' }, 'could not send the notice of a password after failures');
    });
}
