// Who reaches /admin: sysadmins whose session passed the authenticator app; others are stepped up or refused.
import { expect } from 'chai';
import { Browser } from '../helpers/browser.js';
import { createClient, createUser, startTestApp, type TestApp } from '../helpers/app.js';
import { signInAsAdmin } from '../helpers/admin.js';
import { codeFor, connectAuthenticator, TestClock } from '../helpers/phone.js';
import { discoverClient, isCallback, openLogin, startAuthorization, submitPassword, type RelyingParty } from '../helpers/relying-party.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { createTotpSecret } from '../../src/security/totp.js';

const PASSWORD = 'admin access password';

describe('access to the admin console', function () {
  const clock = new TestClock();
  let smtp: TestSmtpServer;
  let app: TestApp;
  let rp: RelyingParty;

  before(async function () {
    smtp = await startSmtpServer();
    app = await startTestApp({ SMTP_URL: smtp.url }, { clock: clock.read });
    rp = await discoverClient(app.issuer, await createClient(app));
  });
  after(async function () {
    await app?.close();
    await smtp?.stop();
  });

  it('sends a visitor without a session to the login, with the app code, and then to /admin', async function () {
    const { home } = await signInAsAdmin(app, clock);
    expect(home.status).to.equal(200);
    expect(home.headers.get('cache-control')).to.equal('no-store');
    expect(home.html).to.contain('<h1 id="admin-title">Administration</h1>');
    expect(home.html).to.contain('href="/admin/clients"');
  });

  it('refuses a signed-in user who is not a sysadmin, and records it', async function () {
    const user = await createUser(app, { username: 'plain-user', password: PASSWORD });
    const browser = new Browser();
    const signedIn = await submitPassword(browser, rp, await openLogin(browser, rp, await startAuthorization(rp)), 'plain-user', PASSWORD);
    expect(signedIn.stoppedAt).to.be.a('string');
    const page = await browser.follow(`${app.issuer}/admin`);
    expect(page.status).to.equal(403);
    expect(page.html).not.to.contain('Administration</h1>');
    const refused = await app.queries.auditEvents.list({ accountId: user.id, event: 'admin.refused', limit: 5 });
    expect(refused).to.have.length(1);
  });

  it('steps a postponed (password-only) sysadmin session up to setup, with no postponing, before /admin', async function () {
    await createUser(app, { username: 'postponed-admin', password: PASSWORD, role: 'sysadmin' });
    const browser = new Browser();
    const install = await submitPassword(browser, rp, await openLogin(browser, rp, await startAuthorization(rp)), 'postponed-admin', PASSWORD);
    const postponed = await browser.submit(install, '/setup/postpone', {}, isCallback(rp));
    expect(postponed.stoppedAt).to.be.a('string');

    const stepUp = await browser.follow(`${app.issuer}/admin`);
    expect(stepUp.html).to.contain('Step 1 of 4: Install an authenticator app');
    expect(stepUp.html).not.to.contain('/setup/postpone');
    expect(stepUp.html).not.to.contain('<label for="password">');
  });

  it('steps an email-code sysadmin session up to the app code before /admin', async function () {
    const account = await createUser(app, { username: 'email-admin', password: PASSWORD, role: 'sysadmin', email: 'email-admin@example.com' });
    const secret = createTotpSecret();
    await connectAuthenticator(app, account.id, secret);
    await app.queries.accounts.markEmailVerified(account.id, account.email);
    const browser = new Browser();
    const codePage = await submitPassword(browser, rp, await openLogin(browser, rp, await startAuthorization(rp)), 'email-admin', PASSWORD);
    const sent = await browser.submit(codePage, '/email-code', {});
    const mail = await smtp.waitFor((m) => m.to.includes('email-admin@example.com'), 5000);
    const done = await browser.submit(sent, '/email-code/verify', { code: /\b(\d{6})\b/.exec(mail.text)![1]! }, isCallback(rp));
    expect(done.stoppedAt).to.be.a('string');

    const stepUp = await browser.follow(`${app.issuer}/admin`);
    expect(stepUp.html).to.contain('<label for="code">Code</label>');
    expect(stepUp.html).not.to.contain('Problems with the code');
    clock.nextStep();
    const admin = await browser.submit(stepUp, '/totp', { code: codeFor(secret, clock) });
    expect(admin.url).to.equal(`${app.issuer}/admin`);
    expect(admin.html).to.contain('<h1 id="admin-title">Administration</h1>');
  });

  it('refuses a POST to the console without a session, and one without a CSRF token', async function () {
    const target = `${app.issuer}/admin/clients/new`;
    const anonymous = await new Browser().request(target, { form: { name: 'x' } });
    expect(anonymous.status).to.equal(403);
    const { browser } = await signInAsAdmin(app, clock);
    const forged = await browser.request(target, { form: { name: 'x' } });
    expect(forged.status).to.equal(403);
    expect(await forged.text()).to.contain('Your form has expired');
  });
});
