// Two nodes on one Postgres schema and one Redis prefix serve as one provider: every request may land on either.
import { expect } from 'chai';
import * as oidc from 'openid-client';
import { createClient, createUser, startTestApp, type TestApp } from '../helpers/app.js';
import { Browser } from '../helpers/browser.js';
import { codeFor, connectAuthenticator, TestClock } from '../helpers/phone.js';
import { Rotation, signInWithCodeAndRefresh } from '../helpers/nodes.js';
import { discoverClient, exchangeCode, isCallback, logOut, startSignIn, submitPassword, openLogin, startAuthorization, type RelyingParty } from '../helpers/relying-party.js';
import { clientCacheOf } from '../../src/oidc/client-cache.js';
import { updateClient } from '../../src/clients/update-client.js';
import { deleteClient } from '../../src/clients/delete-client.js';
import { createTotpSecret } from '../../src/security/totp.js';
import { within } from '../helpers/within.js';

const PASSWORD = 'many nodes password 1';

describe('many nodes, one provider', function () {
  const clock = new TestClock();
  let a: TestApp;
  let b: TestApp;
  let client: Awaited<ReturnType<typeof createClient>>;
  let rp: RelyingParty;
  /** A relying party whose requests all go to one node. */
  const pinned = async (node: TestApp) => {
    const pinnedRp = await discoverClient(a.issuer, client);
    const rotation = new Rotation(a.issuer, [node]);
    rotation.attach(pinnedRp.config);
    return { rp: pinnedRp, browser: rotation.browser() };
  };

  before(async function () {
    a = await startTestApp({}, { clock: clock.read });
    b = await startTestApp({}, { clock: clock.read, join: a });
    client = await createClient(a);
    rp = await discoverClient(a.issuer, client);
  });
  after(async function () {
    await b?.close();
    await a?.close();
  });

  async function userWithApp(username: string) {
    const account = await createUser(a, { username, password: PASSWORD });
    const secret = createTotpSecret();
    await connectAuthenticator(a, account.id, secret);
    return { account, secret };
  }

  it('signs in, refreshes, introspects, revokes and logs out, alternating every request between the two nodes', async function () {
    const { account, secret } = await userWithApp('ada');
    clock.nextStep();
    const rotation = new Rotation(a.issuer, [a, b]);
    rotation.attach(rp.config);
    const browser = rotation.browser();

    await signInWithCodeAndRefresh(rp, browser, { username: 'ada', password: PASSWORD, accountId: account.id, code: () => codeFor(secret, clock) });

    const fresh = (await signInAgain(browser, secret)).tokens;
    const userinfo = await oidc.fetchUserInfo(rp.config, fresh.access_token, account.id);
    expect(userinfo.sub).to.equal(account.id);
    expect((await oidc.tokenIntrospection(rp.config, fresh.access_token)).active).to.equal(true);
    await oidc.tokenRevocation(rp.config, fresh.access_token);
    expect((await oidc.tokenIntrospection(rp.config, fresh.access_token)).active).to.equal(false);

    const { confirm, done: loggedOut } = await logOut(browser, rp, { idToken: fresh.id_token!, postLogoutRedirectUri: client.postLogoutRedirectUri, state: 'bye' });
    expect(confirm.html).to.contain('Log out of Twofold?');
    expect(loggedOut.stoppedAt).to.equal(`${client.postLogoutRedirectUri}?state=bye`);
    const again = await browser.follow((await startAuthorization(rp)).url);
    expect(again.html, 'the session is gone on both nodes').to.contain('Log in');

    expect(rotation.hits[0]).to.be.greaterThan(10);
    expect(Math.abs(rotation.hits[0]! - rotation.hits[1]!)).to.be.at.most(1);
  });

  // A second sign-in in the same browser: the session exists, so only the code (a new step) is asked.
  async function signInAgain(browser: Browser, secret: string) {
    clock.nextStep();
    const start = await startAuthorization(rp, { prompt: 'login' });
    const login = await openLogin(browser, rp, start);
    const page = login.html.includes('one-time-code') ? login : await submitPassword(browser, rp, login, 'ada', PASSWORD);
    const done = await browser.submit(page, '/totp', { code: codeFor(secret, clock) }, isCallback(rp));
    if (!done.stoppedAt) throw new Error(`no callback: ${done.html.slice(0, 800)}`);
    return { tokens: await exchangeCode(rp, done.stoppedAt, start) };
  }

  it('refuses on node B a code already used on node A', async function () {
    const { secret } = await userWithApp('brian');
    clock.nextStep();
    const code = codeFor(secret, clock);
    const onA = await pinned(a);
    const first = await startSignIn(onA.rp, 'brian', PASSWORD, {}, onA.browser);
    expect((await onA.browser.submit(first.page, '/totp', { code }, isCallback(onA.rp))).stoppedAt).to.be.a('string');
    const onB = await pinned(b);
    const second = await startSignIn(onB.rp, 'brian', PASSWORD, {}, onB.browser);
    const replay = await onB.browser.submit(second.page, '/totp', { code }, isCallback(onB.rp));
    expect(replay.stoppedAt).to.equal(undefined);
    expect(replay.html).to.contain('That code is not right.');
  });

  it('keeps on node B a password lockout counted on node A', async function () {
    await createUser(a, { username: 'clara', password: PASSWORD });
    const onA = await pinned(a);
    for (let i = 0; i < 10; i++) {
      const page = await openLogin(onA.browser, onA.rp, await startAuthorization(onA.rp));
      await submitPassword(onA.browser, onA.rp, page, 'clara', `wrong ${i}`);
    }
    const onB = await pinned(b);
    const page = await openLogin(onB.browser, onB.rp, await startAuthorization(onB.rp));
    const refused = await submitPassword(onB.browser, onB.rp, page, 'clara', PASSWORD);
    expect(refused.status).to.equal(429);
    expect(refused.stoppedAt).to.equal(undefined);
  });

  it('publishes the same signing keys on both nodes', async function () {
    const [fromA, fromB] = await Promise.all([a, b].map(async (node) => (await fetch(`${node.issuer}/jwks`)).json()));
    expect((fromA as { keys: unknown[] }).keys).to.have.length.greaterThan(0);
    expect(fromB).to.deep.equal(fromA);
  });

  it('applies a client edited, then deleted, on node A to node B within a second', async function () {
    const other = await createClient(a, { redirectUris: ['http://localhost:3002/callback'] });
    const cacheB = clientCacheOf(b.provider);
    expect((await cacheB.find(other.clientId))?.redirect_uris).to.deep.equal(['http://localhost:3002/callback']);

    const deps = { queries: a.queries, validateMetadata: (m: Parameters<TestApp['provider']['Client']['validate']>[0]) => a.provider.Client.validate(m), production: false, invalidate: clientCacheOf(a.provider).invalidate };
    const input = { name: 'Edited', redirectUris: ['http://localhost:3003/callback'], postLogoutRedirectUris: [other.postLogoutRedirectUri], public: false, firstParty: true, grantTypes: ['authorization_code' as const], scope: 'openid', authMethod: 'client_secret_basic' as const };
    expect((await updateClient(deps, other.clientId, input)).status).to.equal('UPDATED');
    expect(await within(1_000, async () => (await cacheB.find(other.clientId))?.redirect_uris?.[0] === 'http://localhost:3003/callback'), 'edit seen on B').to.equal(true);

    expect((await deleteClient({ ...deps, store: a.storage.shortLived }, other.clientId)).status).to.equal('DELETED');
    expect(await within(1_000, async () => (await cacheB.find(other.clientId)) === undefined), 'deletion seen on B').to.equal(true);
  });
});

describe('a node killed in the middle of a login', function () {
  const clock = new TestClock();
  let survivor: TestApp;
  let doomed: TestApp | undefined;

  // The node that dies joins the survivor's schema and prefix, so closing it drops nothing the survivor needs.
  before(async function () {
    survivor = await startTestApp({}, { clock: clock.read });
    doomed = await startTestApp({}, { clock: clock.read, join: survivor });
  });
  after(async function () {
    await doomed?.close();
    await survivor?.close();
  });

  it('lets the user finish on another node', async function () {
    const client = await createClient(survivor);
    const account = await createUser(survivor, { username: 'dora', password: PASSWORD });
    const secret = createTotpSecret();
    await connectAuthenticator(survivor, account.id, secret);
    clock.nextStep();

    const balancer = new Rotation(survivor.issuer, [doomed!]);
    const rp = await discoverClient(survivor.issuer, client);
    balancer.attach(rp.config);
    const browser = balancer.browser();
    const { start, page } = await startSignIn(rp, 'dora', PASSWORD, {}, browser);
    expect(page.html, page.html.slice(0, 800)).to.contain('autocomplete="one-time-code"');

    await doomed!.close();
    const gone = await fetch(`${doomed!.issuer}/jwks`).then(() => 'served', () => 'refused');
    expect(gone, 'the first node is gone').to.equal('refused');
    doomed = undefined;

    // The same browser (its cookies) and the same code page, now served by the surviving node.
    balancer.nodes.splice(0, 1, survivor);
    const done = await browser.submit(page, '/totp', { code: codeFor(secret, clock) }, isCallback(rp));
    expect(done.stoppedAt, done.html.slice(0, 800)).to.be.a('string');
    const tokens = await exchangeCode(rp, done.stoppedAt!, start);
    expect(tokens.claims()?.sub).to.equal(account.id);
    expect(tokens.claims()?.amr).to.deep.equal(['pwd', 'otp', 'mfa']);
  });
});
