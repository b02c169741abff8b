// The consent step: third-party clients ask; first-party clients are granted without a page.
import type Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { isFirstParty } from '../../oidc/first-party-grant.js';
import { finishInteraction, loadInteraction, type InteractionDetails } from '../load-interaction.js';
import { grantConsent } from './grant-consent.js';

const SCOPE_DESCRIPTIONS: Record<string, string> = {
  openid: 'Sign you in',
  profile: 'See your name and username',
  email: 'See your email address',
  offline_access: 'Stay connected while you are away',
};

/** Shows the consent page, or grants at once for a first-party client. */
export async function showConsent(provider: Provider, ctx: Context, details: InteractionDetails): Promise<void> {
  const client = await provider.Client.find(String(details.params['client_id']));
  if (client && isFirstParty(client as unknown as Record<string, unknown>)) {
    const grantId = await grantConsent(provider, details);
    await finishInteraction(ctx, details, { consent: { grantId } }, true);
    return;
  }
  const missing = (details.prompt.details as { missingOIDCScope?: string[] }).missingOIDCScope ?? [];
  const requested = String(details.params['scope'] ?? '').split(' ').filter(Boolean);
  await ctx.render('consent/consent', {
    title: 'Allow access',
    uid: details.uid,
    clientName: client?.clientName ?? client?.clientId ?? 'An application',
    clientUri: safeHttpUrl(client?.clientUri),
    scopes: (missing.length ? missing : requested).map((scope) => ({ scope, text: SCOPE_DESCRIPTIONS[scope] ?? scope })),
  });
}

/** Registers POST /interaction/:uid/confirm and /abort. */
export function addConsentRoutes(router: Router, provider: Provider): void {
  router.post('/interaction/:uid/confirm', async (ctx) => {
    const details = await loadInteraction(provider, ctx, 'consent');
    const grantId = await grantConsent(provider, details);
    await finishInteraction(ctx, details, { consent: { grantId } }, true);
  });

  router.post('/interaction/:uid/abort', async (ctx) => {
    const details = await loadInteraction(provider, ctx);
    await finishInteraction(ctx, details, { error: 'access_denied', error_description: 'End-User aborted interaction' });
  });
}

/** Only http(s) URLs from client metadata are ever put in a link. */
function safeHttpUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}
