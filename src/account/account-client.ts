// Twofold's own settings pages sign people in through Twofold like any application: a built-in first-party client.
import { randomBytes } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';

export const ACCOUNT_CLIENT_ID = 'twofold-account';

/** The static client for /account (public, PKCE, no consent). */
export function accountClient(issuer: string): ClientMetadata {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'Your Twofold settings',
    redirect_uris: [`${issuer}/account/callback`],
    post_logout_redirect_uris: [`${issuer}/account`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: 'openid',
    first_party: true,
  } as ClientMetadata;
}

/**
 * The authorization request that signs someone in for the settings pages. The pages read the Twofold session
 * itself, so the code is never redeemed; PKCE is still sent because every request must carry it.
 */
export function accountLoginUrl(issuer: string, options: { acrValues?: string; prompt?: string; returnTo?: 'account' | 'admin' } = {}): string {
  const url = new URL(`${issuer}/auth`);
  url.searchParams.set('client_id', ACCOUNT_CLIENT_ID);
  url.searchParams.set('redirect_uri', `${issuer}/account/callback`);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', 'openid');
  url.searchParams.set('code_challenge', randomBytes(32).toString('base64url'));
  url.searchParams.set('code_challenge_method', 'S256');
  if (options.acrValues) url.searchParams.set('acr_values', options.acrValues);
  if (options.prompt) url.searchParams.set('prompt', options.prompt);
  // Only names from a fixed list travel in state, so the callback can never be made to redirect elsewhere.
  url.searchParams.set('state', options.returnTo ?? 'account');
  return url.href;
}
