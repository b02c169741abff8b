// Who reaches /admin: sysadmins whose session passed the authenticator app; others are stepped up or refused.
import { expect } from 'chai';
import { Browser } from '../helpers/browser.js';
import { createUser } from '../helpers/app.js';
import { signInAsAdmin } from '../helpers/admin.js';
import { codeFor, connectAuthenticator } from '../helpers/phone.js';
import { isCallback, openLogin, startAuthorization, submitPassword } from '../helpers/relying-party.js';
import { useFlowSuite } from '../helpers/flow-suite.js';
import { createTotpSecret } from '../../src/security/totp.js';

const PASSWORD = 'admin access password';

describe('access to the admin console', function () {
  const suite = useFlowSuite({ smtp: true });

  it('sends a visitor without a session to the login, with the app code, and then to /admin', async function () {
    const { home } = await signInAsAdmin(suite.app, suite.clock);
    expect(home.status).to.equal(200);
    expect(home.headers.get('cache-control')).to.equal('no-store');
    expect(home.html).to.contain('<h1 id="admin-title">Administration</h1>');
    expect(home.html).to.contain('href="/admin/clients"');
  });

  it('refuses a signed-in user who is not a sysadmin, and records it', async function () {
    const user = await createUser(suite.app, { username: 'plain-user', password: PASSWORD });
    const browser = new Browser();
    const signedIn = await submitPassword(browser, suite.rp, await openLogin(browser, suite.rp, await startAuthorization(suite.rp)), 'plain-user', PASSWORD);
    expect(signedIn.stoppedAt).to.be.a('string');
    const page = await browser.follow(`${suite.app.issuer}/admin`);
    expect(page.status).to.equal(403);
    expect(page.html).not.to.contain('Administration</h1>');
    const refused = await suite.app.queries.auditEvents.list({ accountId: user.id, event: 'admin.refused', limit: 5 });
    expect(refused).to.have.length(1);
  });

  it('steps a postponed (password-only) sysadmin session up to setup, with no postponing, before /admin', async function () {
    await createUser(suite.app, { username: 'postponed-admin', password: PASSWORD, role: 'sysadmin' });
    const browser = new Browser();
    const install = await submitPassword(browser, suite.rp, await openLogin(browser, suite.rp, await startAuthorization(suite.rp)), 'postponed-admin', PASSWORD);
    const postponed = await browser.submit(install, '/setup/postpone', {}, isCallback(suite.rp));
    expect(postponed.stoppedAt).to.be.a('string');

    const stepUp = await browser.follow(`${suite.app.issuer}/admin`);
    expect(stepUp.html).to.contain('Step 1 of 4: Install an authenticator app');
    expect(stepUp.html).not.to.contain('/setup/postpone');
    expect(stepUp.html).not.to.contain('<label for="password">');
  });

  it('steps an email-code sysadmin session up to the app code before /admin', async function () {
    const account = await createUser(suite.app, { username: 'email-admin', password: PASSWORD, role: 'sysadmin', email: 'email-admin@example.com' });
    const secret = createTotpSecret();
    await connectAuthenticator(suite.app, account.id, secret);
    await suite.app.queries.accounts.markEmailVerified(account.id, account.email);
    const browser = new Browser();
    const codePage = await submitPassword(browser, suite.rp, await openLogin(browser, suite.rp, await startAuthorization(suite.rp)), 'email-admin', PASSWORD);
    const sent = await browser.submit(codePage, '/email-code', {});
    const mail = await suite.smtp.waitFor((m) => m.to.includes('email-admin@example.com'), 5000);
    const done = await browser.submit(sent, '/email-code/verify', { code: /\b(\d{6})\b/.exec(mail.text)![1]! }, isCallback(suite.rp));
    expect(done.stoppedAt).to.be.a('string');

    const stepUp = await browser.follow(`${suite.app.issuer}/admin`);
    expect(stepUp.html).to.contain('<label for="code">Code</label>');
    expect(stepUp.html).not.to.contain('Problems with the code');
    suite.clock.nextStep();
    const admin = await browser.submit(stepUp, '/totp', { code: codeFor(secret, suite.clock) });
    expect(admin.url).to.equal(`${suite.app.issuer}/admin`);
    expect(admin.html).to.contain('<h1 id="admin-title">Administration</h1>');
  });

  it('refuses a POST to the console without a session, and one without a CSRF token', async function () {
    const target = `${suite.app.issuer}/admin/clients/new`;
    const anonymous = await new Browser().request(target, { form: { name: 'x' } });
    expect(anonymous.status).to.equal(403);
    const { browser } = await signInAsAdmin(suite.app, suite.clock);
    const forged = await browser.request(target, { form: { name: 'x' } });
    expect(forged.status).to.equal(403);
    expect(await forged.text()).to.contain('Your form has expired');
  });
});
