// Turns an account into the claims oidc-provider puts in ID tokens and userinfo (read through the account cache).
import type { FindAccount } from 'oidc-provider';
import type { AccountCache } from './account-cache.js';

/** Creates oidc-provider's findAccount; disabled accounts are treated as gone, so their tokens stop working. */
export function createFindAccount(accounts: Pick<AccountCache, 'find'>): FindAccount {
  return async (_ctx, sub) => {
    const account = await accounts.find(sub);
    if (!account || account.disabled) return undefined;
    return {
      accountId: account.id,
      async claims() {
        return {
          sub: account.id,
          name: account.name,
          preferred_username: account.username,
          email: account.email,
          // True only after the owner followed a verification link sent to this very address.
          email_verified: account.emailVerified,
        };
      },
    };
  };
}
