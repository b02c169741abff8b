// /admin/compliance: which sysadmins use two-factor authentication, and how far the others have put it off.
import type Router from '@koa/router';
import { MAX_POSTPONEMENTS } from '../interactions/second-factor/plan-second-factor.js';
import type { SysadminTwoFactor } from '../storage/queries.js';
import { adminOf, type AdminDeps } from './routes.js';

export type PostponementsLeft = { kind: 'CONNECTED' } | { kind: 'CONNECTED_BEFORE' } | { kind: 'LEFT'; left: number };

/** How many postponements of the setup a sysadmin has left, as planSecondFactor would decide at their next login. */
export function postponementsLeft(row: SysadminTwoFactor): PostponementsLeft {
  if (row.totpConnectedAt) return { kind: 'CONNECTED' };
  if (row.mfaConnectedBefore) return { kind: 'CONNECTED_BEFORE' };
  return { kind: 'LEFT', left: Math.max(0, MAX_POSTPONEMENTS - row.mfaPostponementsUsed) };
}

/** Registers GET /admin/compliance. */
export function addComplianceRoutes(router: Router, deps: AdminDeps): void {
  router.get('/compliance', async (ctx) => {
    const rows = await deps.queries.oversight.sysadminTwoFactor();
    const sysadmins = rows.map((row) => ({ ...row, postponements: postponementsLeft(row) }));
    await ctx.render('admin/compliance', {
      title: 'Sysadmins’ 2FA',
      sysadmins,
      using: rows.filter((row) => row.totpConnectedAt !== null).length,
      selfId: adminOf(ctx).account.id,
    });
  });
}
