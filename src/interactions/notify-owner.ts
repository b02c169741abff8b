// What an account's owner is told by email about its logins (ASVS 6.3.5): locks, a back-up code used, a password
// that came after wrong ones, a password changed. A failed send is logged, never shown: the login goes on without it.
import { describeLockTime } from '../security/attempt-limits.js';
import type { RequestOrigin } from '../security/audit.js';
import type { Account } from '../storage/queries.js';
import type { InteractionDeps } from './deps.js';
import type { MailLocals, MailMessage } from '../mail/mailer.js';

/** Wrong passwords in a row before a right one that make it worth telling the owner. */
export const NOTICE_AFTER_FAILURES = 3;

/**
 * Wrong codes after the right password, in one login, that make it worth telling the owner: one is a typo or a
 * stale code, three are rare for the owner (the login restarts at CODE_FAILURES_PER_LOGIN).
 */
export const NOTICE_AFTER_WRONG_CODES = 3;

/** When and from where, as the notices about a sign-in or a change show it. */
function whereFrom(deps: Pick<InteractionDeps, 'clock'>, origin: RequestOrigin) {
  return { when: new Date(deps.clock()), ip: origin.ip, userAgent: origin.userAgent ?? 'unknown' };
}

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
  const sent = await deps.mailer.send({ to: account.email, template, locals: { name: account.name, wait: describeLockTime(lockSeconds) } });
  if (sent.status !== 'SENT') deps.logger.warn({ accountId, event: `notify.${template}` }, 'could not send the lockout notice');
}

/** Tells the owner that a back-up code sent by email was used, with where from. */
export async function notifyBackupCodeUsed(deps: Pick<InteractionDeps, 'queries' | 'mailer' | 'logger' | 'clock'>, accountId: string, origin: RequestOrigin): Promise<void> {
  const account = await deps.queries.accounts.findById(accountId);
  if (!account) return;
  const sent = await deps.mailer.send({
    to: account.email,
    template: 'backup-code-used',
    locals: { name: account.name, ...whereFrom(deps, origin) },
  });
  if (sent.status !== 'SENT') deps.logger.warn({ accountId, event: 'notify.backup_code_used' }, 'could not send the back-up code notification');
}

/**
 * Tells the owner that their password was entered after `failures` wrong ones (perhaps a guess that worked), with
 * where from. Not awaited by the login.
 */
export function notifyPasswordAfterFailures(
  deps: Pick<InteractionDeps, 'mailer' | 'logger' | 'clock'>,
  account: Account,
  failures: number,
  origin: RequestOrigin,
): void {
  sendInBackground(deps, account, 'password-after-failures', { name: account.name, failures, ...whereFrom(deps, origin) });
}

/**
 * Tells the owner that their password was entered and then `failures` wrong codes in the same login: a partly
 * successful login, as with a stolen password (ASVS 6.3.5). Not awaited by the login, so its answer takes as
 * long whatever the account.
 */
export function notifyCodesAfterPassword(
  deps: Pick<InteractionDeps, 'queries' | 'mailer' | 'logger' | 'clock'>,
  accountId: string,
  failures: number,
  origin: RequestOrigin,
): void {
  deps.queries.accounts.findById(accountId).then((account) => {
    if (account) sendInBackground(deps, account, 'codes-after-password', { name: account.name, failures, ...whereFrom(deps, origin) });
  }, (err: unknown) => deps.logger.warn({ accountId, err: { message: (err as Error).message }, event: 'notify.codes_after_password' }, 'could not send the notice of wrong codes after the password'));
}

/** Sends a notice without holding up the answer; a failure is logged with the template's name. */
function sendInBackground<T extends 'password-after-failures' | 'codes-after-password'>(
  deps: Pick<InteractionDeps, 'mailer' | 'logger'>,
  account: Account,
  template: T,
  locals: MailLocals[T],
): void {
  deps.mailer
    .send({ to: account.email, template, locals } as MailMessage<T>)
    .then((sent) => sent.status === 'SENT' || Promise.reject(new Error(`not sent: ${sent.status}`)))
    .catch((err: unknown) => {
      deps.logger.warn({ accountId: account.id, err: { message: (err as Error).message }, event: `notify.${template.replaceAll('-', '_')}` }, `could not send the ${template} notice`);
    });
}

/** Tells the owner that their password was changed and their other sessions logged out, with where from. */
export async function notifyPasswordChanged(deps: Pick<InteractionDeps, 'mailer' | 'logger' | 'clock'>, account: Account, origin: RequestOrigin): Promise<void> {
  const sent = await deps.mailer.send({ to: account.email, template: 'password-changed', locals: { name: account.name, ...whereFrom(deps, origin) } });
  if (sent.status !== 'SENT') deps.logger.warn({ accountId: account.id, event: 'notify.password_changed' }, 'could not send the password change notice');
}
