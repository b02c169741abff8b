// First login of a sysadmin: postponing (at most 5 times) and the four-step setup wizard.
import { expect } from 'chai';
import { createUser } from '../helpers/app.js';
import { codeFor, secretOnPage } from '../helpers/phone.js';
import { exchangeCode, isCallback, openLogin, startAuthorization, startSignIn, type AuthorizationStart } from '../helpers/relying-party.js';
import { useFlowSuite } from '../helpers/flow-suite.js';
import { listOutbox } from '../../src/mail/outbox.js';

const PASSWORD = 'sysadmin password 2';

describe('setting up two-factor authentication', function () {
  const suite = useFlowSuite();

  const firstPage = (username: string, params: Record<string, string> = {}) => startSignIn(suite.rp, username, PASSWORD, params);

  async function claimsOf(callback: string, start: AuthorizationStart) {
    return (await exchangeCode(suite.rp, callback, start)).claims()!;
  }

  it('lets a sysadmin postpone 5 times with the count going down, then makes setup mandatory', async function () {
    const account = await createUser(suite.app, { username: 'postponer', password: PASSWORD, role: 'sysadmin' });
    for (let left = 5; left >= 1; left--) {
      const { browser, start, page } = await firstPage('postponer');
      expect(page.html).to.contain('Step 1 of 4: Install an authenticator app');
      expect(page.html).to.contain(`Postpone (${left} ${left === 1 ? 'time' : 'times'} left)`);
      const done = await browser.submit(page, '/setup/postpone', {}, isCallback(suite.rp));
      const claims = await claimsOf(done.stoppedAt!, start);
      expect(claims.amr).to.deep.equal(['pwd']);
      expect(claims.acr).to.equal('urn:twofold:loa:1');
    }
    const sixth = await firstPage('postponer');
    expect(sixth.page.html).to.contain('You have postponed the setup 5 times');
    expect(sixth.page.html).not.to.contain('/setup/postpone');
    // A forged postpone is refused on the server, and spends nothing.
    const forged = await sixth.browser.request(new URL(`/interaction/${/\/interaction\/([^/"]+)\/setup\/next/.exec(sixth.page.html)![1]}/setup/postpone`, suite.app.issuer).href, {
      form: { _csrf: /name="_csrf" value="([^"]+)"/.exec(sixth.page.html)![1]! },
    });
    expect(forged.status).to.equal(403);
    expect(forged.headers.get('location')).to.equal(null);
    expect((await suite.app.queries.accounts.findById(account.id))?.mfaPostponementsUsed).to.equal(5);
    const events = await suite.app.queries.auditEvents.list({ accountId: account.id, event: 'mfa.postponed', limit: 10 });
    expect(events).to.have.length(5);
  });

  it('spends one postponement once, even from two logins in parallel', async function () {
    const account = await createUser(suite.app, { username: 'racer', password: PASSWORD, role: 'sysadmin' });
    await suite.app.queries.accounts.usePostponement(account.id, 5);
    await suite.app.queries.accounts.usePostponement(account.id, 5);
    await suite.app.queries.accounts.usePostponement(account.id, 5);
    await suite.app.queries.accounts.usePostponement(account.id, 5);
    const [a, b] = await Promise.all([firstPage('racer'), firstPage('racer')]);
    const results = await Promise.all([a.browser.submit(a.page, '/setup/postpone', {}, isCallback(suite.rp)), b.browser.submit(b.page, '/setup/postpone', {}, isCallback(suite.rp))]);
    expect(results.filter((r) => r.stoppedAt !== undefined)).to.have.length(1);
    expect(results.filter((r) => r.status === 403)).to.have.length(1);
  });

  it('runs the four steps: install, connect with a wrong then a right code, confirm, back-up email; then logs in with a code', async function () {
    const account = await createUser(suite.app, { username: 'wizard', password: PASSWORD, role: 'sysadmin', email: 'old@example.com' });
    suite.clock.nextStep();
    const { browser, start, page: install } = await firstPage('wizard');
    for (const app of ['Microsoft Authenticator', 'Google Authenticator', 'LastPass Authenticator', 'Duo Mobile', 'Authy']) expect(install.html).to.contain(`<li>${app}</li>`);

    const connect = await browser.submit(install, '/setup/next', {});
    expect(connect.html).to.contain('Step 2 of 4: Connect your authenticator app');
    expect(connect.headers.get('cache-control')).to.equal('no-store');
    expect(connect.html).to.match(/<img src="data:image\/png;base64,[A-Za-z0-9+/=]+"[^>]*alt="QR code/);
    const secret = secretOnPage(connect.html);
    expect(secret).to.have.length(32); // 160 bits in base32
    expect(await suite.app.queries.totp.find(account.id), 'pending until a code proves it').to.equal(undefined);

    const wrong = await browser.submit(connect, '/setup/connect', { code: '123456' === codeFor(secret, suite.clock) ? '654321' : '123456' });
    expect(wrong.status).to.equal(400);
    expect(wrong.html).to.contain('That code is not right.');
    expect(secretOnPage(wrong.html)).to.equal(secret);

    const code = codeFor(secret, suite.clock);
    const confirm = await browser.submit(wrong, '/setup/connect', { code });
    expect(confirm.html).to.contain('Step 3 of 4: Confirm setup');
    expect(confirm.html).to.contain('Two-factor authentication has been connected successfully.');
    expect(confirm.html).not.to.contain(secret);
    expect(await suite.app.queries.totp.find(account.id)).to.include({ secret });

    // The key is never shown again, not even by going back to the connect step's form.
    const back = await browser.submit(wrong, '/setup/connect', { code });
    expect(back.status).to.equal(400);
    expect(back.html).not.to.contain(secret);

    const email = await browser.submit(confirm, '/setup/confirm', {});
    expect(email.html).to.contain('Step 4 of 4: Verify your back-up email');
    expect(email.html).to.contain('Edit profile');
    expect(email.html).to.contain('Without a valid email address, backup access via email will not be available.');
    expect(email.html).to.contain('value="old@example.com"');
    const invalid = await browser.submit(email, '/setup/email', { email: 'not-an-address' });
    expect(invalid.status).to.equal(400);
    expect(invalid.html).to.contain('Enter a valid email address');
    const done = await browser.submit(invalid, '/setup/email', { email: 'ada@example.org' }, isCallback(suite.rp));
    const claims = await claimsOf(done.stoppedAt!, start);
    expect(claims.amr).to.deep.equal(['pwd', 'otp', 'mfa']);
    expect(claims.acr).to.equal('urn:twofold:loa:3');
    expect(claims['email']).to.equal('ada@example.org');

    // The code that confirmed setup cannot log in; the next one can.
    const reuse = await firstPage('wizard');
    expect(reuse.page.html).to.contain('<label for="code">Code</label>');
    const refused = await reuse.browser.submit(reuse.page, '/totp', { code }, isCallback(suite.rp));
    expect(refused.stoppedAt).to.equal(undefined);
    suite.clock.nextStep();
    const accepted = await reuse.browser.submit(refused, '/totp', { code: codeFor(secret, suite.clock) }, isCallback(suite.rp));
    expect(accepted.stoppedAt).to.be.a('string');
    const events = (await suite.app.queries.auditEvents.list({ accountId: account.id, limit: 20 })).map((e) => e.event);
    expect(events).to.include('mfa.connected');
    // The address changed in step 4: audited, and the old address told (no SMTP_URL here: the development outbox).
    const [changed] = await suite.app.queries.auditEvents.list({ accountId: account.id, event: 'account.email_changed', limit: 5 });
    expect(changed?.details).to.deep.equal({ via: 'setup' });
    const notices = (await listOutbox(suite.app.config.dataDir)).filter((m) => m.to === 'old@example.com' && m.subject.includes('email address'));
    expect(notices).to.have.length(1);
    expect(notices[0]!.text).to.contain('ada@example.org');
  });

  it('leaves the account unenrolled when setup is abandoned, and shows a new key next time', async function () {
    const account = await createUser(suite.app, { username: 'quitter', password: PASSWORD, role: 'sysadmin' });
    const first = await firstPage('quitter');
    const secret = secretOnPage((await first.browser.submit(first.page, '/setup/next', {})).html);
    const second = await firstPage('quitter');
    expect(second.page.html).to.contain('Step 1 of 4');
    const next = secretOnPage((await second.browser.submit(second.page, '/setup/next', {})).html);
    expect(next).not.to.equal(secret);
    expect(await suite.app.queries.totp.find(account.id)).to.equal(undefined);
  });

  it('gives no postponement to a sysadmin who had 2FA connected before', async function () {
    const account = await createUser(suite.app, { username: 'returner', password: PASSWORD, role: 'sysadmin' });
    await suite.app.queries.totp.connect(account.id, 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 0);
    await suite.app.queries.totp.disconnect(account.id);
    const { page } = await firstPage('returner');
    expect(page.html).to.contain('Two-factor authentication was disconnected from your account.');
    expect(page.html).not.to.contain('/setup/postpone');
  });

  it('takes anyone through setup, without postponing, when the client asks for loa:3', async function () {
    await createUser(suite.app, { username: 'plain', password: PASSWORD });
    await createUser(suite.app, { username: 'admin-fresh', password: PASSWORD, role: 'sysadmin' });
    for (const username of ['plain', 'admin-fresh']) {
      const { page } = await firstPage(username, { acr_values: 'urn:twofold:loa:3' });
      expect(page.html, username).to.contain('requires two-factor authentication');
      expect(page.html, username).not.to.contain('/setup/postpone');
    }
    // Without the demand, a plain user signs in with the password alone.
    const plain = await firstPage('plain');
    expect(plain.page.stoppedAt).to.be.a('string');
  });

  it('refuses a postponed session to a client that asks for loa:3, and sends the sysadmin to setup', async function () {
    await createUser(suite.app, { username: 'later', password: PASSWORD, role: 'sysadmin' });
    const { browser, page } = await firstPage('later');
    await browser.submit(page, '/setup/postpone', {}, isCallback(suite.rp));
    const silent = await openLogin(browser, suite.rp, await startAuthorization(suite.rp, { acr_values: 'urn:twofold:loa:3', prompt: 'none' }));
    expect(new URL(silent.stoppedAt!).searchParams.get('error')).to.equal('login_required');
    const stepUp = await openLogin(browser, suite.rp, await startAuthorization(suite.rp, { acr_values: 'urn:twofold:loa:3' }));
    expect(stepUp.html).to.contain('Step 1 of 4: Install an authenticator app');
    expect(stepUp.html).not.to.contain('/setup/postpone');
  });
});
