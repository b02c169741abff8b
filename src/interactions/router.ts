// The login journey in flow order: authorize → login (password) → consent → back to oidc-provider for tokens.
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type Provider from 'oidc-provider';
import type { Logger } from '../logger.js';
import { csrfProtection } from '../security/csrf.js';
import { noStore } from '../security/headers.js';
import { AppError } from '../errors.js';
import { loadInteraction } from './load-interaction.js';
import { addLoginRoutes, showLogin } from './login/routes.js';
import { addConsentRoutes, showConsent } from './consent/routes.js';
import type { PasswordLoginDeps } from './login/verify-password-login.js';

export interface InteractionDeps extends PasswordLoginDeps {
  provider: Provider;
  logger: Logger;
  secureCookies: boolean;
}

/** Creates the router for /interaction/*: every page of the login journey. */
export function createInteractionRouter(deps: InteractionDeps): Router {
  const { provider } = deps;
  const router = new Router();
  router.use(noStore);
  router.use(
    bodyParser({
      enableTypes: ['form'],
      formLimit: '16kb',
      onError: (err) => {
        throw new AppError((err as { status?: number }).status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST');
      },
    }),
  );
  router.use(csrfProtection({ secure: deps.secureCookies }));

  // Which page to show is decided by the interaction policy's current prompt.
  router.get('/interaction/:uid', async (ctx) => {
    const details = await loadInteraction(provider, ctx);
    switch (details.prompt.name) {
      case 'login':
        return showLogin(provider, ctx, details);
      case 'consent':
        return showConsent(provider, ctx, details);
      default:
        throw new AppError('INTERACTION_EXPIRED');
    }
  });
  addLoginRoutes(router, provider, deps);
  addConsentRoutes(router, provider);
  return router;
}
