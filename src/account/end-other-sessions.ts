// Ends an account's sessions other than the one making a change, and revokes its grants with every token under them.
import type { ShortLivedStore } from '../storage/short-lived/short-lived-store.js';
import { ACCOUNT_CLIENT_ID } from './account-client.js';
import type { SignedIn } from './signed-in-account.js';

/** What was ended, as recorded in the audit log. */
export interface EndedSessions {
  sessionsEnded: number;
  grantsRevoked: number;
}

/**
 * Ends every session of the signed-in account but this one and revokes its grants. `keep` says which of this session's
 * grants stay: only the settings pages' own ('settings': after a change to the second factor, what applications got
 * under the old one goes too), or every one ('this-session': signing out elsewhere leaves this browser as it was).
 */
export async function endOtherSessions(store: Pick<ShortLivedStore, 'revokeByAccountId'>, signedIn: SignedIn, keep: 'settings' | 'this-session'): Promise<EndedSessions> {
  const settingsGrant = signedIn.grantIds[ACCOUNT_CLIENT_ID];
  const keepGrantIds = keep === 'this-session' ? Object.values(signedIn.grantIds) : settingsGrant ? [settingsGrant] : [];
  const revoked = await store.revokeByAccountId(signedIn.account.id, { exceptSessionUid: signedIn.sessionUid, keepGrantIds });
  return { sessionsEnded: revoked.sessions, grantsRevoked: revoked.grants };
}
