// Wrong codes within one login: a handful sends the person back to the password before more guesses.
import type { Context } from 'koa';
import { CODE_FAILURES_PER_LOGIN } from '../security/attempt-limits.js';
import { requestOrigin } from '../security/audit.js';
import type { InteractionDeps } from './deps.js';
import type { LoginState } from './login-state.js';
import type { InteractionDetails } from './load-interaction.js';
import { showLogin } from './login/routes.js';
import { NOTICE_AFTER_WRONG_CODES, notifyCodesAfterPassword } from './notify-owner.js';

/**
 * Counts a wrong code; returns the updated state, or undefined after the login was restarted (the password
 * page is then rendered). The per-account limit in Redis is the atomic bound; this one only shortens a login.
 * The owner is told once a login has NOTICE_AFTER_WRONG_CODES of them after the right password.
 */
export async function countWrongCode(deps: InteractionDeps, ctx: Context, details: InteractionDetails, state: LoginState): Promise<LoginState | undefined> {
  const failures = state.codeFailures + 1;
  // Not while connecting an app in the setup wizard: there the person is still setting up, not proving who they are.
  if (failures === NOTICE_AFTER_WRONG_CODES && !state.setup) notifyCodesAfterPassword(deps, state.accountId, failures, requestOrigin(ctx, details.params['client_id']));
  if (failures >= CODE_FAILURES_PER_LOGIN) {
    await deps.loginState.clear(details.uid);
    ctx.status = 401;
    await showLogin(deps.provider, ctx, details, { error: 'TOO_MANY_CODES' });
    return undefined;
  }
  const next = { ...state, codeFailures: failures };
  await deps.loginState.save(details.uid, next);
  return next;
}
