// Consent: third-party clients ask the user; first-party clients do not; Cancel returns access_denied.
import { expect } from 'chai';
import { Browser } from '../helpers/browser.js';
import { createClient, createUser } from '../helpers/app.js';
import { discoverClient, exchangeCode, isCallback, openLogin, startAuthorization, startSignIn, type RelyingParty } from '../helpers/relying-party.js';
import { useFlowSuite } from '../helpers/flow-suite.js';

describe('consent', function () {
  const suite = useFlowSuite({ clock: false, client: false });
  let thirdParty: RelyingParty;
  let firstParty: RelyingParty;

  before(async function () {
    await createUser(suite.app, { username: 'carol', password: 'a long enough password' });
    thirdParty = await discoverClient(suite.app.issuer, await createClient(suite.app, { name: 'Partner <App>', firstParty: false, redirectUris: ['http://localhost:4001/cb'] }));
    firstParty = await discoverClient(suite.app.issuer, await createClient(suite.app, { firstParty: true }));
  });

  const toConsent = (rp: RelyingParty, browser?: Browser) => startSignIn(rp, 'carol', 'a long enough password', {}, browser);

  it('asks before a third-party client gets access, escaping its name, and Allow completes the sign-in', async function () {
    const { browser, start, page } = await toConsent(thirdParty);
    expect(page.status).to.equal(200);
    expect(page.html).to.contain('Allow Partner &lt;App&gt; access?');
    expect(page.html).not.to.contain('Partner <App>');
    expect(page.html).to.contain('See your email address');
    const done = await browser.submit(page, '/confirm', {}, isCallback(thirdParty));
    expect(done.stoppedAt).to.be.a('string');
    const tokens = await exchangeCode(thirdParty, done.stoppedAt!, start);
    expect(tokens.claims()?.['email']).to.equal('carol@example.com');

    // Once granted, the next sign-in in the same session goes straight through.
    const again = await openLogin(browser, thirdParty, await startAuthorization(thirdParty));
    expect(again.stoppedAt).to.be.a('string');
  });

  it('returns access_denied to the client when the user cancels', async function () {
    const { browser, start, page } = await toConsent(thirdParty);
    const done = await browser.submit(page, '/abort', {}, isCallback(thirdParty));
    const callback = new URL(done.stoppedAt!);
    expect(callback.searchParams.get('error')).to.equal('access_denied');
    expect(callback.searchParams.get('state')).to.equal(start.state);
  });

  it('does not ask for a first-party client', async function () {
    const { page } = await toConsent(firstParty);
    expect(page.stoppedAt).to.be.a('string').and.satisfy(isCallback(firstParty));
  });
});
