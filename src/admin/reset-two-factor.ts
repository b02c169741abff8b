// Resets an account's two-factor authentication from the admin console: the authenticator app is removed, and every
// session and grant of the account ends with it.
import type { Logger } from '../logger.js';
import type { Mailer } from '../mail/mailer.js';
import type { AuditLog } from '../security/audit.js';
import type { Clock } from '../security/totp.js';
import type { Account, Queries } from '../storage/queries.js';
import type { ShortLivedStore } from '../storage/short-lived/short-lived-store.js';
import type { AdminActor } from './create-account.js';

export const RESET_REASON_MIN = 10;
export const RESET_REASON_MAX = 500;

export type ResetTwoFactorResult =
  | { status: 'RESET'; mail: 'SENT' | 'FAILED'; sessionsEnded: number; grantsRevoked: number }
  | { status: 'INVALID'; errors: { reason?: 'LENGTH'; confirm?: 'MISSING' }; reason: string }
  | { status: 'SELF' }
  | { status: 'NOT_CONNECTED' };

/** Normalises a reason as typed: line breaks unified, other control characters dropped, blank runs shortened, trimmed. */
export function normalizeReason(value: unknown): string {
  if (typeof value !== 'string') return '';
  return value
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * Removes `target`'s authenticator app, ends all of their sessions and revokes all of their grants with every token,
 * records mfa.reset with the reason, the counts and the admin as actor, and tells the person by email. A failed email
 * does not undo the reset: the caller warns the administrator instead.
 */
export async function resetTwoFactor(
  deps: { queries: Pick<Queries, 'totp'>; store: Pick<ShortLivedStore, 'revokeByAccountId'>; audit: AuditLog; mailer: Mailer; clock: Clock; logger: Logger },
  target: Account,
  form: Record<string, unknown>,
  actor: AdminActor,
): Promise<ResetTwoFactorResult> {
  // Why: one's own factor is changed under Your settings, which asks for a fresh second factor first.
  if (target.id === actor.accountId) return { status: 'SELF' };
  const reason = normalizeReason(form['reason']);
  const length = [...reason].length;
  const errors: Extract<ResetTwoFactorResult, { status: 'INVALID' }>['errors'] = {};
  if (length < RESET_REASON_MIN || length > RESET_REASON_MAX) errors.reason = 'LENGTH';
  if (form['confirm'] !== 'yes') errors.confirm = 'MISSING';
  if (errors.reason || errors.confirm) return { status: 'INVALID', errors, reason };
  // The secret and its replay state go in one statement. accounts.mfa_connected_before stays true (connect set
  // it), so a sysadmin's next login goes straight to setup, with no postponements.
  if (!(await deps.queries.totp.disconnect(target.id))) return { status: 'NOT_CONNECTED' };
  // Why: a reset answers a lost or stolen phone, so what was signed in with it must not outlive it (ASVS 6.5.6,
  // 7.4.3). After the app is gone, so that no login with it can start a session this revocation would miss.
  const revoked = await deps.store.revokeByAccountId(target.id);
  const counts = { sessionsEnded: revoked.sessions, grantsRevoked: revoked.grants };
  await deps.audit.record('mfa.reset', actor.origin, target.id, { reason, ...counts }, actor.accountId);
  const sent = await deps.mailer.send({ to: target.email, template: 'mfa-reset', locals: { name: target.name, reason, when: new Date(deps.clock()) } });
  if (sent.status !== 'SENT') deps.logger.warn({ accountId: target.id, mailFailure: sent.reason }, 'mfa-reset notice not sent');
  return { status: 'RESET', mail: sent.status === 'SENT' ? 'SENT' : 'FAILED', ...counts };
}
