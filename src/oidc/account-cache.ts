// What tokens and the login policy need of an account, kept briefly in memory: the claims and "has an authenticator".
import type { Account, Queries } from '../storage/queries.js';
import type { ClientChanges } from '../storage/short-lived/client-changes.js';
import { createLookupCache, type LookupCache, type LookupCacheOptions } from './lookup-cache.js';

/** The part of an account that ID tokens, userinfo, refresh and the policy read; no password hash. */
export interface AccountView {
  id: string;
  username: string;
  name: string;
  email: string;
  /** Whether the owner proved they receive mail at `email` (a verification link). */
  emailVerified: boolean;
  disabled: boolean;
  hasTotp: boolean;
}

export type AccountCache = LookupCache<AccountView>;

/** The cached view of an account row and whether it has an authenticator. */
export function accountView(account: Account, hasTotp: boolean): AccountView {
  return { id: account.id, username: account.username, name: account.name, email: account.email, emailVerified: account.emailVerifiedAt !== null, disabled: account.disabled, hasTotp };
}

/**
 * Creates the account cache (by default 10,000 accounts for 30 s). A change stored through this process's
 * queries drops the entry at once and is announced to the other nodes through `changes` (Redis pub/sub).
 */
export function createAccountCache(
  queries: Pick<Queries, 'accounts' | 'accountChanges'>,
  changes: ClientChanges | undefined,
  options: LookupCacheOptions = {},
): AccountCache {
  const cache = createLookupCache<AccountView>(async (id) => {
    const found = await queries.accounts.findWithTotp(id);
    return found && accountView(found.account, found.hasTotp);
  }, { maxEntries: 10_000, ...options });
  // Why: a disabled account, a changed email or a newly connected authenticator must count on the next request,
  // on this node at once and on the others as soon as the message arrives (or, if it is lost, after the TTL).
  queries.accountChanges.listen((accountId) => {
    cache.invalidate(accountId);
    changes?.publish(accountId, 'accounts');
  });
  changes?.listen({ changed: (accountId) => cache.invalidate(accountId), reset: () => cache.clear() }, 'accounts');
  return cache;
}
