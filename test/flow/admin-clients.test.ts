// The admin console's clients: register, sign in through it, edit, rotate, delete (with revocation), access control.
import { expect } from 'chai';
import * as oidc from 'openid-client';
import { Browser, hiddenInput, type Page } from '../helpers/browser.js';
import { createUser } from '../helpers/app.js';
import { signInAsAdmin, type AdminSession } from '../helpers/admin.js';
import { discoverClient, openLogin, signIn, startAuthorization } from '../helpers/relying-party.js';
import { useFlowSuite } from '../helpers/flow-suite.js';

const PASSWORD = 'clients flow password';
const FIRST_REDIRECT = 'http://localhost:4001/cb';
const SECOND_REDIRECT = 'http://127.0.0.1:4002/cb';

/** The text of the element with this id (a client_id or secret shown on the page). */
function shown(page: Page, id: string): string {
  const value = new RegExp(`id="${id}"[^>]*>([^<]+)<`).exec(page.html)?.[1];
  if (!value) throw new Error(`nothing shown as #${id} on ${page.url} (${page.status}):\n${page.html.slice(0, 2000)}`);
  return value;
}

type RelyingPartyError = { error?: string; code?: string; cause?: { parameters?: { error?: string } }[] };
/** What the relying party's request failed with: the OAuth error code (from the body or WWW-Authenticate), or 'accepted'. */
const outcome = (promise: Promise<unknown>) =>
  promise.then(() => 'accepted', (err: RelyingPartyError) => err.error ?? (Array.isArray(err.cause) ? err.cause[0]?.parameters?.error : undefined) ?? err.code ?? 'failed');

describe('admin console: clients', function () {
  this.timeout(60_000);
  const suite = useFlowSuite({ client: false });
  let admin: AdminSession;
  let clientId: string;
  let secret: string;
  const fields = (redirect: string): Record<string, string> => ({
    name: 'Reports', redirect_uris: redirect, post_logout_redirect_uris: 'http://localhost:4001/', type: 'confidential',
    first_party: 'yes', grant_authorization_code: 'yes', grant_refresh_token: 'yes', scope: 'openid profile email offline_access',
  });
  const open = (path: string) => admin.browser.follow(`${suite.app.issuer}${path}`);
  const relyingParty = (redirectUri: string, clientSecret = secret) => discoverClient(suite.app.issuer, { clientId, clientSecret, redirectUri });
  const audit = async (event: string) => (await suite.app.queries.auditEvents.list({ event, limit: 10 })).filter((e) => e.clientId === clientId);

  before(async function () {
    await createUser(suite.app, { username: 'carol', password: PASSWORD });
    admin = await signInAsAdmin(suite.app, suite.clock, 'clients-admin');
  });

  it('lists every problem next to the form, escaped, and registers nothing', async function () {
    const form = await open('/admin/clients/new');
    expect(form.status).to.equal(200);
    expect(form.html).to.contain('aria-current="page">Clients</a>');
    const refused = await admin.browser.submit(form, '/admin/clients/new', {
      ...fields('http://reports.example/cb\nhttps://reports.example/cb#top\nhttps://*.example/cb'),
      name: '<script>alert(1)</script>', type: 'public', grant_client_credentials: 'yes', logo_uri: 'https://elsewhere.example/logo.png',
    });
    expect(refused.status).to.equal(400);
    const problems = /<div class="alert"[^>]*>([\s\S]*?)<\/div>/.exec(refused.html)?.[1] ?? '';
    for (const expected of ['must use https (http is only allowed for localhost)', 'must not contain a fragment', 'must not contain a wildcard',
      'logo URI: &quot;https://elsewhere.example/logo.png&quot; must be on the host of a redirect URI', 'a public client cannot use client_credentials']) {
      expect(problems).to.contain(expected);
    }
    expect(refused.html).not.to.contain('<script>alert(1)');
    expect(refused.html).to.contain('value="&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(await suite.app.queries.clients.list()).to.have.length(0);
  });

  it('registers a client and shows its secret once, never on the list', async function () {
    const form = await open('/admin/clients/new');
    const created = await admin.browser.submit(form, '/admin/clients/new', { ...fields(FIRST_REDIRECT), logo_uri: 'https://localhost/logo.png' });
    expect(created.status).to.equal(200);
    clientId = shown(created, 'client-id');
    secret = shown(created, 'client-secret');
    expect(created.html).to.match(/class="secret-once" id="client-secret"/);
    expect(created.html).to.contain('Store it now; it is not shown again.');
    expect(created.headers.get('cache-control')).to.contain('no-store');
    expect(Buffer.from(secret, 'base64url')).to.have.length(32);

    const stored = await suite.app.queries.clients.findById(clientId);
    expect(stored).to.include({ name: 'Reports', firstParty: true });
    expect(suite.app.clientSecrets.verify(clientId, secret, stored!.secretHash!)).to.equal(true);
    expect(stored?.metadata).to.include({ logo_uri: 'https://localhost/logo.png', token_endpoint_auth_method: 'client_secret_basic' });
    const list = await open('/admin/clients');
    expect(list.html).to.contain(clientId).and.contain('Reports').and.contain('confidential');
    expect(list.html).to.contain(`<a href="${FIRST_REDIRECT}" rel="noopener noreferrer">`);
    expect(list.html).not.to.contain(secret);
    const [event] = await audit('client.created');
    expect(event?.actorId).to.equal(admin.account.id);
    expect(JSON.stringify(event?.details)).not.to.contain(secret);
  });

  it('signs a user in through the new client', async function () {
    const rp = await relyingParty(FIRST_REDIRECT);
    const { tokens } = await signIn(new Browser(), rp, 'carol', PASSWORD);
    expect(tokens.claims()?.aud).to.equal(clientId);
    expect((await oidc.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub))['preferred_username']).to.equal('carol');
  });

  it('edits the redirect URIs: the old one is refused and the new one works at once', async function () {
    const edit = await open(`/admin/clients/${clientId}/edit`);
    expect(edit.html).to.contain(FIRST_REDIRECT);
    expect(edit.html).to.match(/id="type-confidential"[^>]*checked[^>]*disabled|id="type-confidential"[^>]*disabled[^>]*checked/);
    const saved = await admin.browser.submit(edit, `/admin/clients/${clientId}/edit`, fields(SECOND_REDIRECT));
    expect(saved.url).to.equal(`${suite.app.issuer}/admin/clients?changed=updated`);
    expect(saved.html).to.contain('The client was saved.');

    const old = await openLogin(new Browser(), await relyingParty(FIRST_REDIRECT), await startAuthorization(await relyingParty(FIRST_REDIRECT)));
    expect(old.stoppedAt, 'no redirect to the removed URI').to.equal(undefined);
    expect(old.status).to.equal(400);
    expect(old.html).to.contain('redirect_uri did not match');
    const { tokens } = await signIn(new Browser(), await relyingParty(SECOND_REDIRECT), 'carol', PASSWORD);
    expect(tokens.access_token).to.be.a('string');
    // The logo was on the old redirect host, and was not sent again: it is gone too.
    expect((await audit('client.updated'))[0]?.details).to.deep.equal({ fields: ['logo_uri', 'redirect_uris'] });
  });

  it('rotates the secret after a confirmation: the old one is refused, the new one shown once works', async function () {
    const rp = await relyingParty(SECOND_REDIRECT);
    const { tokens } = await signIn(new Browser(), rp, 'carol', PASSWORD);
    const confirm = await open(`/admin/clients/${clientId}/rotate-secret`);
    expect(confirm.html).to.contain('stops working at once');
    const rotated = await admin.browser.submit(confirm, `/admin/clients/${clientId}/rotate-secret`, {});
    const newSecret = shown(rotated, 'client-secret');
    expect(newSecret).not.to.equal(secret);
    expect(rotated.html).to.contain('Store it now; it is not shown again.');

    expect(await outcome(oidc.tokenIntrospection(rp.config, tokens.access_token))).to.equal('invalid_client');
    const fresh = await relyingParty(SECOND_REDIRECT, newSecret);
    expect((await oidc.tokenIntrospection(fresh.config, tokens.access_token)).active).to.equal(true);
    secret = newSecret;
    expect(await audit('client.secret_rotated')).to.have.length(1);
  });

  it('deletes the client after a confirmation: its tokens stop working and it is unknown', async function () {
    const rp = await relyingParty(SECOND_REDIRECT);
    const { tokens } = await signIn(new Browser(), rp, 'carol', PASSWORD, { scope: 'openid offline_access', prompt: 'consent' });
    const sub = tokens.claims()!.sub;
    expect(tokens.refresh_token).to.be.a('string');
    const grantId = (await suite.app.storage.shortLived.findModel('AccessToken', tokens.access_token))?.['grantId'];
    expect(grantId).to.be.a('string');

    const confirm = await open(`/admin/clients/${clientId}/delete`);
    expect(confirm.html).to.contain('This cannot be undone.');
    const done = await admin.browser.submit(confirm, `/admin/clients/${clientId}/delete`, {});
    expect(done.url).to.equal(`${suite.app.issuer}/admin/clients?changed=deleted`);
    expect(done.html).not.to.contain(clientId);
    expect(await suite.app.queries.clients.findById(clientId)).to.equal(undefined);

    // Revoked in the store, not only refused because the client is gone.
    expect(await suite.app.storage.shortLived.findModel('AccessToken', tokens.access_token)).to.equal(undefined);
    expect(await suite.app.storage.shortLived.findModel('RefreshToken', tokens.refresh_token!)).to.equal(undefined);
    expect(await suite.app.storage.shortLived.findModel('Grant', grantId as string)).to.equal(undefined);
    expect(await outcome(oidc.fetchUserInfo(rp.config, tokens.access_token, sub))).not.to.equal('accepted');
    expect(await outcome(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!))).to.equal('invalid_client');
    expect(await outcome(oidc.tokenIntrospection(rp.config, tokens.access_token))).to.equal('invalid_client');
    const login = await openLogin(new Browser(), rp, await startAuthorization(rp));
    expect(login.status).to.equal(400);
    expect(login.stoppedAt).to.equal(undefined);
    const [event] = await audit('client.deleted');
    expect(event?.actorId).to.equal(admin.account.id);
    expect(event?.details['grantsRevoked']).to.be.at.least(1);
  });

  it('answers unknown client ids with a 404 page', async function () {
    for (const path of ['edit', 'delete', 'rotate-secret']) {
      const page = await open(`/admin/clients/${clientId}/${path}`);
      expect(page.status, path).to.equal(404);
      expect(page.html).to.contain('Page not found');
    }
  });

  it('refuses a POST without the CSRF token, and changes nothing', async function () {
    const page = await admin.browser.follow(`${suite.app.issuer}/admin/clients/new`, { form: fields(FIRST_REDIRECT) });
    expect(page.status).to.equal(403);
    expect(await suite.app.queries.clients.list()).to.have.length(0);
  });

  it('keeps people who are not administrators out', async function () {
    const anonymous = new Browser();
    const login = await anonymous.follow(`${suite.app.issuer}/admin/clients`);
    expect(login.html).to.contain('<label for="password">');
    expect((await anonymous.follow(`${suite.app.issuer}/admin/clients/new`, { form: fields(FIRST_REDIRECT) })).status).to.equal(403);

    const user = new Browser();
    const accountLogin = await user.follow(`${suite.app.issuer}/account`);
    const settings = await user.submit(accountLogin, '/login', { username: 'carol', password: PASSWORD });
    expect(settings.url).to.equal(`${suite.app.issuer}/account`);
    expect((await user.follow(`${suite.app.issuer}/admin/clients`)).status).to.equal(403);
    const csrf = hiddenInput(settings.html, '_csrf')!;
    expect((await user.follow(`${suite.app.issuer}/admin/clients/new`, { form: { _csrf: csrf, ...fields(FIRST_REDIRECT) } })).status).to.equal(403);
    expect((await user.follow(`${suite.app.issuer}/admin/clients/tokens`, { form: { _csrf: csrf, expires: '1h' } })).status).to.equal(403);
    expect(await suite.app.queries.clients.list()).to.have.length(0);
  });
});
