// A real relying party for flow tests, built on openid-client, signing in through the test Browser.
import * as oidc from 'openid-client';
import { Browser, type Page } from './browser.js';

export interface RelyingParty {
  config: oidc.Configuration;
  redirectUri: string;
}

/** Discovers the issuer and returns an openid-client configuration for the client. */
export async function discoverClient(issuer: string, client: { clientId: string; clientSecret?: string | undefined; redirectUri: string }): Promise<RelyingParty> {
  const auth = client.clientSecret ? oidc.ClientSecretBasic(client.clientSecret) : oidc.None();
  const config = await oidc.discovery(new URL(issuer), client.clientId, { redirect_uris: [client.redirectUri] }, auth, { execute: [oidc.allowInsecureRequests] });
  return { config, redirectUri: client.redirectUri };
}

export interface AuthorizationStart {
  url: string;
  verifier: string;
  state: string;
  nonce: string;
}

/** Builds an authorization URL with PKCE S256, state and nonce. */
export async function startAuthorization(rp: RelyingParty, params: Record<string, string> = {}): Promise<AuthorizationStart> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp.config, {
    redirect_uri: rp.redirectUri,
    scope: 'openid profile email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { url: url.href, verifier, state, nonce };
}

/** Whether a location is the client's redirect URI (where the browser hands over to the relying party). */
export function isCallback(rp: RelyingParty): (location: string) => boolean {
  return (location) => location.startsWith(rp.redirectUri);
}

/** Opens the authorization URL in the browser and returns the login page. */
export async function openLogin(browser: Browser, rp: RelyingParty, start: AuthorizationStart): Promise<Page> {
  return browser.follow(start.url, {}, isCallback(rp));
}

/** Submits username and password on the login page; returns where the browser ends (callback URL or a page). */
export async function submitPassword(browser: Browser, rp: RelyingParty, page: Page, username: string, password: string): Promise<Page> {
  return browser.submit(page, '/login', { username, password }, isCallback(rp));
}

/**
 * Starts a sign-in in `browser` (a new one by default): authorize, then the password on the login page. Returns the
 * page that follows (the code page, the setup wizard, consent...) or where it stopped at the callback, and the start
 * for exchanging the code.
 */
export async function startSignIn(rp: RelyingParty, username: string, password: string, params: Record<string, string> = {}, browser = new Browser()): Promise<{ browser: Browser; start: AuthorizationStart; page: Page }> {
  const start = await startAuthorization(rp, params);
  const page = await submitPassword(browser, rp, await openLogin(browser, rp, start), username, password);
  return { browser, start, page };
}

/** Exchanges the code in `callback` (checking state and nonce, with the PKCE verifier of `start`). */
export async function exchangeCode(rp: RelyingParty, callback: string, start: AuthorizationStart) {
  return oidc.authorizationCodeGrant(rp.config, new URL(callback), { pkceCodeVerifier: start.verifier, expectedState: start.state, expectedNonce: start.nonce });
}

/** The whole sign-in: authorize, log in with a password, exchange the code; returns the token response. */
export async function signIn(browser: Browser, rp: RelyingParty, username: string, password: string, params: Record<string, string> = {}) {
  const start = await startAuthorization(rp, params);
  const login = await openLogin(browser, rp, start);
  const done = login.stoppedAt ? login : await submitPassword(browser, rp, login, username, password);
  if (!done.stoppedAt) throw new Error(`sign-in did not reach the callback; page ${done.url} (${done.status}):\n${done.html.slice(0, 1500)}`);
  const tokens = await oidc.authorizationCodeGrant(rp.config, new URL(done.stoppedAt), {
    pkceCodeVerifier: start.verifier,
    expectedState: start.state,
    expectedNonce: start.nonce,
    idTokenExpected: true,
  });
  return { tokens, callback: done.stoppedAt, start };
}

/**
 * RP-initiated logout as a browser does it: the end-session URL, the "Log out of Twofold?" page (checked), and its
 * form sent with the page's xsrf token. Returns the confirmation page and where the browser was sent at the end.
 */
export async function logOut(browser: Browser, rp: RelyingParty, options: { idToken: string; postLogoutRedirectUri: string; state: string }): Promise<{ confirm: Page; done: Page }> {
  const logoutUrl = oidc.buildEndSessionUrl(rp.config, { id_token_hint: options.idToken, post_logout_redirect_uri: options.postLogoutRedirectUri, state: options.state });
  const confirm = await browser.follow(logoutUrl.href);
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.html)?.[1];
  const action = /<form[^>]*id="op.logoutForm"[^>]*action="([^"]+)"|<form[^>]*action="([^"]+)"[^>]*id="op.logoutForm"/.exec(confirm.html);
  const target = action?.[1] ?? action?.[2];
  if (!xsrf || !target) throw new Error(`no logout form on ${confirm.url} (${confirm.status}):\n${confirm.html.slice(0, 1500)}`);
  const done = await browser.follow(new URL(target, confirm.url).href, { form: { xsrf, logout: 'yes' } }, (location) => location.startsWith(options.postLogoutRedirectUri));
  return { confirm, done };
}
