// The login journey in flow order: authorize → password → second factor (app | email code) | setup wizard → consent.
import Router from '@koa/router';
import { AppError } from '../errors.js';
import { formPages } from '../http/form-pages.js';
import { STEP_UP_REASONS } from '../oidc/interaction-policy.js';
import { requestedAcrRank } from '../oidc/acr.js';
import type { InteractionDeps } from './deps.js';
import { loadInteractionAndState, type InteractionDetails } from './load-interaction.js';
import type { LoginState } from './login-state.js';
import { addLoginRoutes, showLogin } from './login/routes.js';
import { addSecondFactorRoutes, showCode } from './second-factor/routes.js';
import { startSecondFactor } from './second-factor/start-second-factor.js';
import { addSetupRoutes, showSetup } from './setup/routes.js';
import { addEmailCodeRoutes, showEmailCode } from './email-code/routes.js';
import { addConsentRoutes, showConsent } from './consent/routes.js';

/** Creates the router for /interaction/*: every page of the login journey. */
export function createInteractionRouter(deps: InteractionDeps): Router {
  const { provider } = deps;
  const router = new Router();
  router.use(...formPages({ secure: deps.secureCookies }));

  // Which page to show is decided by the policy's current prompt and, within login, by the login's state.
  router.get('/interaction/:uid', async (ctx) => {
    const [details, saved] = await loadInteractionAndState(deps, ctx);
    if (details.prompt.name === 'consent') return showConsent(provider, ctx, details);
    if (details.prompt.name !== 'login') throw new AppError('INTERACTION_EXPIRED');
    const state = saved ?? (await startStepUp(deps, details));
    if (!state) return showLogin(provider, ctx, details);
    if (state.setup) return showSetup(deps, ctx, details, state);
    if (state.emailCode) return showEmailCode(ctx, details);
    return showCode(ctx, details);
  });
  addLoginRoutes(router, deps);
  addSecondFactorRoutes(router, deps);
  addEmailCodeRoutes(router, deps);
  addSetupRoutes(router, deps);
  addConsentRoutes(router, provider);
  return router;
}

/**
 * A session that passed the password but is too weak for this request (a postponed login, a client asking for
 * a higher level) goes straight to the missing factor; anything else (prompt=login, max_age) starts from the password.
 */
async function startStepUp(deps: InteractionDeps, details: InteractionDetails): Promise<LoginState | undefined> {
  const accountId = details.session?.accountId;
  const reasons = details.prompt.reasons;
  if (!accountId || reasons.length === 0 || !reasons.every((reason) => STEP_UP_REASONS.has(reason))) return undefined;
  const account = await deps.queries.accounts.findById(accountId);
  if (!account || account.disabled) return undefined;
  const next = await startSecondFactor(deps, {
    uid: details.uid,
    account,
    requestedRank: requestedAcrRank(details.params),
    passwordAt: Math.floor(deps.clock() / 1000),
  });
  return next.next === 'CONTINUE' ? deps.loginState.load(details.uid) : undefined;
}
