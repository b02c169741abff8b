// Accounts are read through a cache for tokens and userinfo: a change counts on the next request, on every node.
import { expect } from 'chai';
import * as oidc from 'openid-client';
import { createClient, createUser, startTestApp, type TestApp } from '../helpers/app.js';
import { Browser } from '../helpers/browser.js';
import { discoverClient, signIn, type RelyingParty } from '../helpers/relying-party.js';
import { Rotation } from '../helpers/nodes.js';
import { within } from '../helpers/within.js';

const PASSWORD = 'account cache password 1';

/** What userinfo answers for this access token: the claims, or the error code. */
async function userinfo(rp: RelyingParty, accessToken: string, sub: string): Promise<Record<string, unknown> | string> {
  return oidc.fetchUserInfo(rp.config, accessToken, sub).then(
    (claims) => claims as Record<string, unknown>,
    // A refused token comes back as a WWW-Authenticate challenge: its error parameter says why.
    (err: { error?: string; cause?: Array<{ parameters?: { error?: string } }> }) => err.error ?? err.cause?.[0]?.parameters?.error ?? String(err),
  );
}

describe('the account cache', function () {
  let a: TestApp;
  let b: TestApp;
  let client: Awaited<ReturnType<typeof createClient>>;
  /** A relying party whose every request goes to `node`. */
  const pinned = async (node: TestApp) => {
    const rp = await discoverClient(a.issuer, client);
    new Rotation(a.issuer, [node]).attach(rp.config);
    return rp;
  };

  before(async function () {
    a = await startTestApp();
    b = await startTestApp({}, { join: a });
    client = await createClient(a);
  });
  after(async function () {
    await b?.close();
    await a?.close();
  });

  async function signedIn(username: string, rp: RelyingParty) {
    const account = await createUser(a, { username, password: PASSWORD });
    const { tokens } = await signIn(new Browser(), rp, username, PASSWORD, { scope: 'openid profile email offline_access', prompt: 'consent' });
    return { account, tokens };
  }

  it('refuses userinfo and refresh as soon as the account is disabled, and serves them again once it is enabled', async function () {
    const rp = await pinned(a);
    const { account, tokens } = await signedIn('dora', rp);
    expect(await userinfo(rp, tokens.access_token, account.id)).to.include({ sub: account.id });

    await a.queries.accounts.changeDisabled(account.id, true);
    expect(await userinfo(rp, tokens.access_token, account.id), 'at once, on the node that made the change').to.equal('invalid_token');
    const refresh = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!).then(() => 'issued', (err: { error?: string }) => err.error);
    expect(refresh).to.equal('invalid_grant');

    await a.queries.accounts.changeDisabled(account.id, false);
    expect(await userinfo(rp, tokens.access_token, account.id)).to.include({ sub: account.id });
  });

  it('shows a changed name and a verified email in the next userinfo answer', async function () {
    const rp = await pinned(a);
    const { account, tokens } = await signedIn('eliot', rp);
    expect(await userinfo(rp, tokens.access_token, account.id)).to.include({ name: 'User eliot', email_verified: false });

    await a.queries.accounts.updateProfile(account.id, { name: 'T. S. Eliot' });
    await a.queries.accounts.markEmailVerified(account.id, account.email);
    expect(await userinfo(rp, tokens.access_token, account.id)).to.include({ name: 'T. S. Eliot', email: account.email, email_verified: true });
  });

  it('applies an account disabled on node A to node B within a second', async function () {
    const onB = await pinned(b);
    const { account, tokens } = await signedIn('fern', onB);
    expect(await userinfo(onB, tokens.access_token, account.id), 'node B has the account cached now').to.include({ sub: account.id });

    await a.queries.accounts.changeDisabled(account.id, true);
    expect(await within(1000, async () => (await userinfo(onB, tokens.access_token, account.id)) === 'invalid_token')).to.equal(true);
  });
});
