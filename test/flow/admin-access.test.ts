// Who reaches /admin: sysadmins whose session passed the authenticator app; others are stepped up or refused.
import { expect } from 'chai';
import { Browser, hiddenInput } from '../helpers/browser.js';
import { createUser } from '../helpers/app.js';
import { ADMIN_PASSWORD, signInAsAdmin } from '../helpers/admin.js';
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

  it('asks for the password and the app again before a change once the login is 10 minutes old, then comes back to the form', async function () {
    const { browser, secret } = await signInAsAdmin(suite.app, suite.clock);
    const at = (path: string) => `${suite.app.issuer}${path}`;
    const form = await browser.follow(at('/admin/clients/new'));
    expect(form.html, 'a fresh login is enough').to.contain('Register a client');

    suite.clock.now += 11 * 60_000;
    expect((await browser.follow(at('/admin/clients'))).html, 'looking needs nothing more').to.contain('<h1 id="clients-title">Clients</h1>');
    // A form sent from a page shown before is not acted on: the browser is sent to confirm first.
    const late = await browser.request(at('/admin/clients/new'), { form: { _csrf: hiddenInput(form.html, '_csrf')!, name: 'Late app', redirect_uris: 'https://late.example.com/cb' } });
    expect(late.status).to.equal(303);
    expect(late.headers.get('location')).to.equal('/account/verify?return=%2Fadmin%2Fclients%2Fnew');
    expect((await suite.app.queries.clients.list()).map((client) => client.name)).not.to.include('Late app');

    // So is a form's page. The check takes the app only: no email code is offered, and one is refused.
    const verify = await browser.follow(at('/admin/clients/new'));
    expect(verify.url).to.equal(at('/account/verify?return=%2Fadmin%2Fclients%2Fnew'));
    expect(verify.html).to.contain('need your password and a code from your authenticator app');
    expect(verify.html).to.contain('autocomplete="current-password"');
    expect(verify.html).not.to.contain('Problems with the code');
    const email = await browser.request(at('/account/verify/email-code'), { form: { _csrf: hiddenInput(verify.html, '_csrf')!, return: '/admin/clients/new' } });
    expect(email.status).to.equal(400);
    expect(await email.text()).to.contain('The administration console needs a code from your authenticator app.');

    suite.clock.nextStep();
    const back = await browser.submit(verify, '/account/verify', { password: ADMIN_PASSWORD, code: codeFor(secret, suite.clock), return: hiddenInput(verify.html, 'return')! });
    expect(back.url).to.equal(at('/admin/clients/new'));
    expect(back.html).to.contain('Register a client');
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
