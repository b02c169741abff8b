// The authorization code flow end to end with openid-client: sign-in, tokens, userinfo, refresh, revocation, logout.
import { expect } from 'chai';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.js';
import { createClient, createUser } from '../helpers/app.js';
import { discoverClient, exchangeCode, isCallback, logOut, openLogin, signIn, startAuthorization } from '../helpers/relying-party.js';
import { useFlowSuite } from '../helpers/flow-suite.js';

describe('authorization code flow', function () {
  const suite = useFlowSuite({ clock: false });
  let accountId: string;

  before(async function () {
    accountId = (await createUser(suite.app, { username: 'Alice', password: 'correct horse battery', name: 'Alice Liddell', email: 'alice@example.com' })).id;
  });

  it('advertises code flow only, S256 only, and the three Twofold acr values in discovery', async function () {
    const metadata = suite.rp.config.serverMetadata();
    expect(metadata.issuer).to.equal(suite.app.issuer);
    expect(metadata.response_types_supported).to.deep.equal(['code']);
    expect(metadata.code_challenge_methods_supported).to.deep.equal(['S256']);
    expect(metadata.acr_values_supported).to.deep.equal(['urn:twofold:loa:1', 'urn:twofold:loa:2', 'urn:twofold:loa:3']);
    expect(metadata.grant_types_supported).to.include.members(['authorization_code', 'refresh_token', 'client_credentials']);
    expect(metadata.grant_types_supported).not.to.include('implicit');
    expect(metadata.introspection_endpoint).to.be.a('string');
    expect(metadata.revocation_endpoint).to.be.a('string');
    expect(metadata.end_session_endpoint).to.be.a('string');
    expect(metadata.authorization_response_iss_parameter_supported).to.equal(true);
  });

  it('signs a user in and issues an ID token with the account claims, amr pwd and acr loa:1', async function () {
    const { tokens } = await signIn(new Browser(), suite.rp, 'alice', 'correct horse battery');
    const claims = tokens.claims()!;
    expect(claims.iss).to.equal(suite.app.issuer);
    expect(claims.sub).to.equal(accountId);
    expect(claims['name']).to.equal('Alice Liddell');
    expect(claims['preferred_username']).to.equal('Alice');
    expect(claims['email']).to.equal('alice@example.com');
    expect(claims['email_verified']).to.equal(false); // nobody followed a verification link yet
    expect(claims.amr).to.deep.equal(['pwd']);
    expect(claims.acr).to.equal('urn:twofold:loa:1');

    const userinfo = await oidc.fetchUserInfo(suite.rp.config, tokens.access_token, accountId);
    expect(userinfo['preferred_username']).to.equal('Alice');
    expect(userinfo['email']).to.equal('alice@example.com');
  });

  it('signs ID tokens with a key published in the JWKS, the same across restarts of the app', async function () {
    const jwks = (await (await fetch(`${suite.app.issuer}/jwks`)).json()) as { keys: { kid: string; alg: string; d?: string }[] };
    expect(jwks.keys.map((k) => k.alg).sort()).to.deep.equal(['ES256', 'RS256']);
    expect(jwks.keys.every((k) => k.d === undefined), 'no private key material').to.equal(true);
    const { tokens } = await signIn(new Browser(), suite.rp, 'alice', 'correct horse battery');
    const header = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0]!, 'base64url').toString()) as { kid: string };
    expect(jwks.keys.map((k) => k.kid)).to.include(header.kid);
  });

  it('rotates refresh tokens, and a reused refresh token revokes the grant', async function () {
    const { tokens } = await signIn(new Browser(), suite.rp, 'alice', 'correct horse battery', { scope: 'openid offline_access', prompt: 'consent' });
    expect(tokens.refresh_token).to.be.a('string');
    const first = tokens.refresh_token!;
    const rotated = await oidc.refreshTokenGrant(suite.rp.config, first);
    expect(rotated.refresh_token).to.be.a('string').and.not.equal(first);
    expect(rotated.claims()?.sub).to.equal(accountId);

    // Replaying the old token is treated as theft: it fails and the whole grant is revoked.
    const replay = await oidc.refreshTokenGrant(suite.rp.config, first).then(() => 'accepted', (err: { error?: string }) => err.error);
    expect(replay).to.equal('invalid_grant');
    const afterReplay = await oidc.refreshTokenGrant(suite.rp.config, rotated.refresh_token!).then(() => 'accepted', (err: { error?: string }) => err.error);
    expect(afterReplay).to.equal('invalid_grant');
  });

  it('introspects and revokes access tokens', async function () {
    const { tokens } = await signIn(new Browser(), suite.rp, 'alice', 'correct horse battery');
    const active = await oidc.tokenIntrospection(suite.rp.config, tokens.access_token);
    expect(active.active).to.equal(true);
    expect(active.sub).to.equal(accountId);
    await oidc.tokenRevocation(suite.rp.config, tokens.access_token);
    const revoked = await oidc.tokenIntrospection(suite.rp.config, tokens.access_token);
    expect(revoked.active).to.equal(false);
    const userinfo = await oidc.fetchUserInfo(suite.rp.config, tokens.access_token, accountId).then(() => 'served', () => 'refused');
    expect(userinfo).to.equal('refused');
  });

  it('refuses a reused authorization code', async function () {
    const browser = new Browser();
    const { callback, start } = await signIn(browser, suite.rp, 'alice', 'correct horse battery');
    const again = await exchangeCode(suite.rp, callback, start)
      .then(() => 'accepted', (err: { error?: string }) => err.error);
    expect(again).to.equal('invalid_grant');
  });

  it('logs out through RP-initiated logout to a registered post-logout redirect URI, keeping state', async function () {
    const browser = new Browser();
    const { tokens } = await signIn(browser, suite.rp, 'alice', 'correct horse battery');
    const { confirm, done } = await logOut(browser, suite.rp, { idToken: tokens.id_token!, postLogoutRedirectUri: 'http://localhost:3001/', state: 'keep-me' });
    expect(confirm.status).to.equal(200);
    expect(confirm.html).to.contain('Log out of Twofold?');
    expect(done.stoppedAt).to.equal('http://localhost:3001/?state=keep-me');

    // The session is gone: a new authorization shows the login page again.
    const { url } = await startAuthorization(suite.rp);
    const page = await browser.follow(url);
    expect(page.html).to.contain('Log in');
  });

  it('refuses an unregistered post-logout redirect URI with an error page', async function () {
    const browser = new Browser();
    const { tokens } = await signIn(browser, suite.rp, 'alice', 'correct horse battery');
    const logoutUrl = oidc.buildEndSessionUrl(suite.rp.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://evil.example/' });
    const response = await browser.request(logoutUrl.href);
    expect(response.status).to.equal(400);
    expect(response.headers.get('location')).to.equal(null);
    expect(await response.text()).to.contain('post_logout_redirect_uri');
  });

  it('issues client_credentials tokens only to a confidential client registered for that grant', async function () {
    const service = await createClient(suite.app, { grantTypes: ['client_credentials'], redirectUris: [], postLogoutRedirectUris: [], scope: 'openid' });
    const config = (await discoverClient(suite.app.issuer, { ...service, redirectUri: 'http://localhost:3001/callback' })).config;
    const tokens = await oidc.clientCredentialsGrant(config);
    expect(tokens.access_token).to.be.a('string');
    expect(tokens.token_type.toLowerCase()).to.equal('bearer');
    expect(tokens.refresh_token).to.equal(undefined);

    // The sign-in client was not registered for client_credentials.
    const refused = await oidc.clientCredentialsGrant(suite.rp.config).then(() => 'accepted', (err: { error_description?: string }) => err.error_description);
    expect(refused).to.equal('requested grant type is not allowed for this client');
  });

  it('refuses the token endpoint to a client with a wrong secret', async function () {
    const { clientId } = await createClient(suite.app);
    const wrong = await discoverClient(suite.app.issuer, { clientId, clientSecret: 'not-the-secret', redirectUri: 'http://localhost:3001/callback' });
    const result = await oidc.clientCredentialsGrant(wrong.config).then(() => 'accepted', (err: { status?: number; cause?: { parameters?: { error?: string } }[] }) => `${err.status} ${err.cause?.[0]?.parameters?.error}`);
    expect(result).to.equal('401 invalid_client');
  });

  it('keeps a session: a second authorization goes straight through, but prompt=login and max_age=0 ask again', async function () {
    const browser = new Browser();
    await signIn(browser, suite.rp, 'alice', 'correct horse battery');
    const silent = await openLogin(browser, suite.rp, await startAuthorization(suite.rp, { prompt: 'none' }));
    expect(silent.stoppedAt).to.be.a('string').and.satisfy(isCallback(suite.rp));
    expect(new URL(silent.stoppedAt!).searchParams.get('code')).to.be.a('string');
    for (const params of [{ prompt: 'login' }, { max_age: '0' }] as Record<string, string>[]) {
      const page = await openLogin(browser, suite.rp, await startAuthorization(suite.rp, params));
      expect(page.stoppedAt, JSON.stringify(params)).to.equal(undefined);
      expect(page.html).to.contain('<h1 id="login-title">Log in</h1>');
    }
    const { tokens } = await signIn(browser, suite.rp, 'alice', 'correct horse battery', { max_age: '0' });
    expect(tokens.claims()?.auth_time).to.be.a('number');
  });
});
