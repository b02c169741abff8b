// Turns an account from Postgres into the claims oidc-provider puts in ID tokens and userinfo.
import type { FindAccount } from 'oidc-provider';
import type { Queries } from '../storage/queries.js';

/** Creates oidc-provider's findAccount; disabled accounts are treated as gone, so their tokens stop working. */
export function createFindAccount(queries: Pick<Queries, 'accounts'>): FindAccount {
  return async (_ctx, sub) => {
    const account = await queries.accounts.findById(sub);
    if (!account || account.disabled) return undefined;
    return {
      accountId: account.id,
      async claims() {
        return {
          sub: account.id,
          name: account.name,
          preferred_username: account.username,
          email: account.email,
          // Nothing verifies email addresses yet, so none is claimed as verified.
          email_verified: false,
        };
      },
    };
  };
}
