// The user guide's section 5 end to end: a lost phone, a back-up code by email, Disconnect, Log out, setup again.
import { expect } from 'chai';
import { Browser, type Page } from '../helpers/browser.js';
import { createUser } from '../helpers/app.js';
import { codeFor, connectAuthenticator, secretOnPage } from '../helpers/phone.js';
import { exchangeCode, isCallback, openLogin, startAuthorization, submitPassword, type AuthorizationStart } from '../helpers/relying-party.js';
import { useFlowSuite } from '../helpers/flow-suite.js';
import { createTotpSecret } from '../../src/security/totp.js';

const PASSWORD = 'lost phone password 1';

describe('switching to a new phone after losing the old one (guide, section 5)', function () {
  this.timeout(30000);
  const suite = useFlowSuite({ smtp: true, env: { MAIL_FROM: 'Twofold <no-reply@twofold.test>' } });

  const url = (path: string) => `${suite.app.issuer}${path}`;
  const mailTo = (address: string, subject: RegExp) => suite.smtp.waitFor((m) => m.to.includes(address) && subject.test(m.subject), 5000);

  async function claimsOf(page: Page, start: AuthorizationStart) {
    expect(page.stoppedAt, page.html.slice(0, 1000)).to.be.a('string');
    const tokens = await exchangeCode(suite.rp, page.stoppedAt!, start);
    return tokens.claims()!;
  }

  it('logs in with an email code, disconnects the old app from Your settings, logs out, and sets up the new phone', async function () {
    const account = await createUser(suite.app, { username: 'lost', password: PASSWORD, role: 'sysadmin', name: 'Lena Lost', email: 'lena@example.com' });
    const oldSecret = createTotpSecret();
    await connectAuthenticator(suite.app, account.id, oldSecret);
    await suite.app.queries.accounts.markEmailVerified(account.id, account.email);
    const browser = new Browser();

    // Section 4: the code page offers "Problems with the code"; the code comes by email.
    const start = await startAuthorization(suite.rp);
    const codePage = await submitPassword(browser, suite.rp, await openLogin(browser, suite.rp, start), 'lost', PASSWORD);
    expect(codePage.html).to.contain('>Problems with the code</button>');
    const sent = await browser.submit(codePage, '/email-code', {});
    expect(sent.html).to.contain('We sent a one-time code to the email address in your profile.');
    const code = /\b(\d{6})\b/.exec((await mailTo('lena@example.com', /back-up code$/)).text)?.[1];
    expect(code).to.match(/^\d{6}$/);
    const signedIn = await browser.submit(sent, '/email-code/verify', { code: code! }, isCallback(suite.rp));
    const first = await claimsOf(signedIn, start);
    expect(first.amr).to.deep.equal(['pwd', 'email']);
    expect(first.acr).to.equal('urn:twofold:loa:2');

    // Your name in the top menu → Your settings: the same session, no login.
    const settings = await browser.follow(url('/account'));
    expect(settings.url).to.equal(url('/account'));
    expect(settings.status).to.equal(200);
    expect(settings.html).to.contain('<summary>Lena Lost</summary>');
    expect(settings.html).to.contain('<a href="/account">Your settings</a>');
    expect(settings.html).to.contain('<a href="/account/two-factor">Two-factor authentication</a>');

    // Two-factor authentication → Disconnect: the email login was minutes ago, so no further code is asked for.
    const twoFactor = await browser.follow(url('/account/two-factor'));
    expect(twoFactor.html).to.contain('<a class="button danger" href="/account/two-factor/disconnect">Disconnect</a>');
    const confirm = await browser.follow(url('/account/two-factor/disconnect'));
    expect(confirm.url).to.equal(url('/account/two-factor/disconnect'));
    expect(confirm.html).to.contain('Disconnect your authenticator app?');
    const disconnected = await browser.submit(confirm, '/two-factor/disconnect', {});
    expect(disconnected.html).to.contain('Two-factor authentication is disconnected');
    expect(disconnected.html).to.contain('Log out, then log in again');
    expect(await suite.app.queries.totp.find(account.id)).to.equal(undefined);
    const events = await suite.app.queries.auditEvents.list({ accountId: account.id, event: 'mfa.disconnected', limit: 5 });
    expect(events).to.have.length(1);
    expect(events[0]?.details['recovery']).to.equal(true);
    const notice = await mailTo('lena@example.com', /authenticator app was disconnected/);
    expect(notice.text).to.contain('back-up code sent by email');

    // Log out: the session is gone.
    const out = await browser.submit(disconnected, '/account/logout', {});
    expect(out.html).to.contain('You are logged out');
    const silent = await openLogin(browser, suite.rp, await startAuthorization(suite.rp, { prompt: 'none' }));
    expect(new URL(silent.stoppedAt!).searchParams.get('error')).to.equal('login_required');

    // Log in again: the setup wizard, without Postpone, as 2FA was connected before.
    const again = await startAuthorization(suite.rp);
    const install = await submitPassword(browser, suite.rp, await openLogin(browser, suite.rp, again), 'lost', PASSWORD);
    expect(install.html).to.contain('Step 1 of 4: Install an authenticator app');
    expect(install.html).to.contain('Two-factor authentication was disconnected from your account.');
    expect(install.html).not.to.contain('Postpone');
    expect(install.html).not.to.contain('/setup/postpone');

    const connect = await browser.submit(install, '/setup/next', {});
    expect(connect.html).to.contain('Step 2 of 4: Connect your authenticator app');
    expect(connect.html).to.match(/<img src="data:image\/png;base64,[A-Za-z0-9+/=]+"[^>]*alt="QR code/);
    const newSecret = secretOnPage(connect.html);
    expect(newSecret).not.to.equal(oldSecret);
    suite.clock.nextStep();
    const confirmed = await browser.submit(connect, '/setup/connect', { code: codeFor(newSecret, suite.clock) });
    expect(confirmed.html).to.contain('Step 3 of 4: Confirm setup');
    const email = await browser.submit(confirmed, '/setup/confirm', {});
    expect(email.html).to.contain('Step 4 of 4: Verify your back-up email');
    expect(email.html).to.contain('value="lena@example.com"');
    const done = await browser.submit(email, '/setup/email', { email: 'lena@example.com' }, isCallback(suite.rp));
    const second = await claimsOf(done, again);
    expect(second.amr).to.deep.equal(['pwd', 'otp', 'mfa']);
    expect(second.acr).to.equal('urn:twofold:loa:3');
    expect(second.sub).to.equal(account.id);
    expect((await suite.app.queries.totp.find(account.id))?.secret).to.equal(newSecret);
    await mailTo('lena@example.com', /authenticator app was connected/);
  });
});
