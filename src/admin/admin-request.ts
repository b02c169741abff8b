// What the account pages of the console read from a request: the account it names and the acting administrator.
import type { Context } from 'koa';
import { AppError } from '../errors.js';
import { requestOrigin } from '../security/audit.js';
import type { Account, Queries } from '../storage/queries.js';
import type { AdminActor } from './create-account.js';
import { adminOf } from './routes.js';

/** The account named by the route's :id; NOT_FOUND when there is none. */
export async function loadAccount(queries: Pick<Queries, 'accounts'>, ctx: Context): Promise<Account> {
  const account = await queries.accounts.findById(String(ctx.params['id'] ?? ''));
  if (!account) throw new AppError('NOT_FOUND');
  return account;
}

/** The administrator acting in this request, for the audit log. */
export function actorOf(ctx: Context): AdminActor {
  return { accountId: adminOf(ctx).account.id, origin: requestOrigin(ctx) };
}

/** Answers a form with 303 See Other, so reloading the next page does not post it again. */
export function redirectTo(ctx: Context, path: string): void {
  ctx.status = 303;
  ctx.redirect(path);
}
