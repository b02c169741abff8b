// Decides what a login needs after the password: nothing more, an authenticator code, or setup.
import type { Account } from '../../storage/queries.js';
import { ACR_PASSWORD, acrRank } from '../../oidc/acr.js';

/** A sysadmin may postpone setting up 2FA for this many logins (the user guide, section 1). */
export const MAX_POSTPONEMENTS = 5;

export type SecondFactorPlan =
  | { kind: 'NONE' }
  | { kind: 'TOTP' }
  | { kind: 'SETUP'; postpone: { allowed: true; left: number } | { allowed: false; reason: 'EXHAUSTED' | 'CONNECTED_BEFORE' | 'LEVEL_REQUIRED' | 'NOT_SYSADMIN' } };

/** Plans the second factor from the account, whether it has an authenticator, and the level the client asks for. */
export function planSecondFactor(input: { account: Account; hasTotp: boolean; requestedRank: number }): SecondFactorPlan {
  const { account, hasTotp, requestedRank } = input;
  if (hasTotp) return { kind: 'TOTP' };
  const mustUse2fa = account.role === 'sysadmin';
  if (!mustUse2fa && requestedRank <= acrRank(ACR_PASSWORD)) return { kind: 'NONE' };
  // A client asking for more than a password can only be answered after setup: no postponing then.
  if (requestedRank > acrRank(ACR_PASSWORD)) return { kind: 'SETUP', postpone: { allowed: false, reason: 'LEVEL_REQUIRED' } };
  if (!mustUse2fa) return { kind: 'SETUP', postpone: { allowed: false, reason: 'NOT_SYSADMIN' } };
  // Postponing is for a first enrolment only: someone who disconnected must set up again at once.
  if (account.mfaConnectedBefore) return { kind: 'SETUP', postpone: { allowed: false, reason: 'CONNECTED_BEFORE' } };
  const left = MAX_POSTPONEMENTS - account.mfaPostponementsUsed;
  if (left <= 0) return { kind: 'SETUP', postpone: { allowed: false, reason: 'EXHAUSTED' } };
  return { kind: 'SETUP', postpone: { allowed: true, left } };
}
