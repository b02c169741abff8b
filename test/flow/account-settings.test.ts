// Your settings (/account): signing in to it, Edit profile, the two-factor page, Disconnect, a new phone, Log out, CSRF.
import { expect } from 'chai';
import { Browser, hiddenInput, type Page } from '../helpers/browser.js';
import { createUser } from '../helpers/app.js';
import { codeFor, connectAuthenticator, secretOnPage } from '../helpers/phone.js';
import { openLogin, startAuthorization } from '../helpers/relying-party.js';
import { useFlowSuite } from '../helpers/flow-suite.js';
import { createTotpSecret } from '../../src/security/totp.js';

const PASSWORD = 'settings password 1';
const ELEVEN_MINUTES = 11 * 60 * 1000;

describe('Your settings', function () {
  this.timeout(30000);
  const suite = useFlowSuite({ smtp: true, env: { MAIL_FROM: 'Twofold <no-reply@twofold.test>' } });
  // The session's login time is real time: each test starts with the app's clock back at the real time.
  beforeEach(function () {
    suite.clock.now = Date.now();
  });

  const url = (path: string) => `${suite.app.issuer}${path}`;
  const mailTo = (address: string, subject: RegExp) => suite.smtp.waitFor((m) => m.to.includes(address) && subject.test(m.subject), 5000);
  const mailsTo = (address: string) => suite.smtp.messages.filter((m) => m.to.includes(address));
  const events = async (accountId: string, event: string) => suite.app.queries.auditEvents.list({ accountId, event, limit: 10 });
  const wrongCode = (right: string) => (right === '123456' ? '654321' : '123456');

  async function sysadminWithApp(username: string, options: { verified?: boolean } = {}) {
    const account = await createUser(suite.app, { username, password: PASSWORD, role: 'sysadmin', name: `Admin ${username}` });
    const secret = createTotpSecret();
    await connectAuthenticator(suite.app, account.id, secret);
    if (options.verified) await suite.app.queries.accounts.markEmailVerified(account.id, account.email);
    return { account, secret };
  }

  /** Opens /account without a session, logs in (with a code when `secret` is given) and lands on Your settings. */
  async function signInToSettings(username: string, secret?: string, browser = new Browser()): Promise<{ browser: Browser; page: Page }> {
    const login = await browser.follow(url('/account'));
    let page = await browser.submit(login, '/login', { username, password: PASSWORD });
    if (secret) {
      suite.clock.nextStep();
      page = await browser.submit(page, '/totp', { code: codeFor(secret, suite.clock) });
    }
    expect(page.url, page.html.slice(0, 800)).to.equal(url('/account'));
    return { browser, page };
  }

  it('sends a visitor without a session to the login for twofold-account, then to Your settings with the menu', async function () {
    const { account, secret } = await sysadminWithApp('menu');
    const browser = new Browser();
    const first = await browser.request(url('/account'));
    expect(first.status).to.equal(302);
    const auth = new URL(first.headers.get('location')!);
    expect(auth.origin + auth.pathname).to.equal(url('/auth'));
    expect(auth.searchParams.get('client_id')).to.equal('twofold-account');
    expect(auth.searchParams.get('redirect_uri')).to.equal(url('/account/callback'));

    const login = await browser.follow(auth.href);
    expect(login.html).to.contain('<label for="password">Password</label>');
    const codePage = await browser.submit(login, '/login', { username: 'menu', password: PASSWORD });
    expect(codePage.html).to.contain('<label for="code">Code</label>');
    suite.clock.nextStep();
    const page = await browser.submit(codePage, '/totp', { code: codeFor(secret, suite.clock) });
    expect(page.url).to.equal(url('/account'));
    expect(page.status).to.equal(200);
    expect(page.headers.get('cache-control')).to.equal('no-store');
    expect(page.html).to.contain('<h1 id="settings-title">Your settings</h1>');
    expect(page.html).to.contain(`<summary>${account.name}</summary>`);
    expect(page.html).to.contain('<a href="/account">Your settings</a>');
    expect(page.html).to.match(/<form method="post" action="\/account\/logout">[\s\S]*?Log out<\/button>/);
    expect(page.html).to.contain('<a href="/account/profile">Edit profile</a>');
    expect(page.html).to.contain('<a href="/account/two-factor">Two-factor authentication</a>');
  });

  it('shows Recent activity: this account\'s sign-ins, wrong passwords and codes, in words, and nobody else\'s', async function () {
    const { account, secret } = await sysadminWithApp('watcher');
    const neighbour = await sysadminWithApp('neighbour');
    // A wrong password and, after the right one, a wrong code: what someone with the password would leave.
    const stranger = new Browser();
    const login = await stranger.follow(url('/account'));
    await stranger.submit(login, '/login', { username: 'watcher', password: 'not the password' }).catch(() => undefined);
    const strangerCode = await stranger.submit(await stranger.follow(url('/account')), '/login', { username: 'watcher', password: PASSWORD });
    await stranger.submit(strangerCode, '/totp', { code: wrongCode(codeFor(secret, suite.clock)) });
    await signInToSettings('neighbour', neighbour.secret);

    const { browser, page } = await signInToSettings('watcher', secret);
    expect(page.html).to.contain('<a href="/account/activity">Recent activity</a>');
    const activity = await browser.follow(url('/account/activity'));
    expect(activity.status).to.equal(200);
    expect(activity.headers.get('cache-control')).to.equal('no-store');
    const rows = [...activity.html.matchAll(/<tr><td><time[^>]*>[^<]+<\/time><\/td><td>([^<]+)<\/td><td>([^<]*)<\/td>/g)].map((m) => m[1]);
    // Newest first: this login, then the stranger's wrong code and wrong password.
    expect(rows.slice(0, 3)).to.deep.equal(['Logged in with your password and authenticator app', 'Wrong code from your authenticator app', 'Wrong password']);
    expect(activity.html).to.contain('<td>127.0.0.1</td>');
    // One line per event of this account, and only this account's (the neighbour's login is not there); the
    // accepted code is said by the login's line.
    const recorded = (await suite.app.queries.auditEvents.list({ accountId: account.id, limit: 50 })).filter((e) => e.event !== 'mfa.totp.accepted');
    expect(rows, JSON.stringify(recorded.map((e) => e.event))).to.have.length(recorded.length);

    // Without a session the page is not shown; the visitor is sent to log in.
    const anonymous = await new Browser().request(url('/account/activity'));
    expect(anonymous.status).to.equal(302);
  });

  it('opens for a sysadmin who postponed setup, who can connect an app there', async function () {
    const account = await createUser(suite.app, { username: 'later', password: PASSWORD, role: 'sysadmin', email: 'later@example.com' });
    const browser = new Browser();
    const install = await browser.submit(await browser.follow(url('/account')), '/login', { username: 'later', password: PASSWORD });
    expect(install.html).to.contain('Postpone (5 times left)');
    const settings = await browser.submit(install, '/setup/postpone', {});
    expect(settings.url).to.equal(url('/account'));
    expect(settings.html).to.contain('Your settings');

    const twoFactor = await browser.follow(url('/account/two-factor'));
    expect(twoFactor.html).to.contain('Not connected.');
    expect(twoFactor.html).to.contain('<a class="button primary" href="/account/two-factor/connect">Connect an authenticator app</a>');
    const connect = await browser.follow(url('/account/two-factor/connect'));
    expect(connect.status).to.equal(200);
    expect(connect.headers.get('cache-control')).to.equal('no-store');
    expect(connect.html).to.match(/<img src="data:image\/png;base64,[A-Za-z0-9+/=]+"[^>]*alt="QR code/);
    const secret = secretOnPage(connect.html);
    expect(await suite.app.queries.totp.find(account.id), 'pending until a code proves it').to.equal(undefined);

    suite.clock.nextStep();
    const wrong = await browser.submit(connect, '/two-factor/connect', { code: wrongCode(codeFor(secret, suite.clock)) });
    expect(wrong.status).to.equal(400);
    expect(wrong.html).to.contain('That code is not right.');
    expect(await suite.app.queries.totp.find(account.id)).to.equal(undefined);
    const connected = await browser.submit(wrong, '/two-factor/connect', { code: codeFor(secret, suite.clock) });
    expect(connected.url).to.equal(url('/account/two-factor?connected=1'));
    expect(connected.html).to.contain('Your authenticator app is connected.');
    expect(connected.html).to.contain('<dt>Connected since</dt>');
    expect((await suite.app.queries.totp.find(account.id))?.secret).to.equal(secret);
    expect((await events(account.id, 'mfa.connected'))[0]?.details).to.deep.equal({ switched: false });
    await mailTo('later@example.com', /authenticator app was connected/);
  });

  describe('Edit profile', function () {
    it('refuses an empty name and a bad address with 400 and both messages, and saves a name change', async function () {
      const account = await createUser(suite.app, { username: 'renamer', password: PASSWORD, name: 'Old Name' });
      const { browser } = await signInToSettings('renamer');
      const profile = await browser.follow(url('/account/profile'));
      expect(profile.html).to.contain('value="Old Name"');
      const bad = await browser.submit(profile, '/account/profile', { name: '  ', email: 'not-an-address' });
      expect(bad.status).to.equal(400);
      expect(bad.html).to.contain('Enter your name (at most 100 characters).');
      expect(bad.html).to.contain('Enter a valid email address');
      expect((await suite.app.queries.accounts.findById(account.id))?.name).to.equal('Old Name');

      const saved = await browser.submit(bad, '/account/profile', { name: '  New   Name ', email: account.email });
      expect(saved.url).to.equal(url('/account/profile?saved=1'));
      expect(saved.html).to.contain('Your profile was saved.');
      expect(saved.html, 'no offer when the email did not change').not.to.contain('/account/logout-others');
      expect(saved.html).to.contain('<summary>New Name</summary>');
      expect((await suite.app.queries.accounts.findById(account.id))?.name).to.equal('New Name');
      expect(mailsTo(account.email), 'a name change sends no mail').to.have.length(0);
    });

    it('allows five email changes an hour (each mails two addresses), then says how long to wait and changes nothing', async function () {
      const account = await createUser(suite.app, { username: 'hopper', password: PASSWORD });
      const { browser } = await signInToSettings('hopper');
      let page = await browser.follow(url('/account/profile'));
      for (let i = 1; i <= 5; i++) {
        page = await browser.submit(page, '/account/profile', { name: account.name, email: `hop${i}@example.org` });
        expect(page.url, `change ${i}`).to.equal(url('/account/profile?saved=email'));
      }
      const refused = await browser.submit(page, '/account/profile', { name: account.name, email: 'hop6@example.org' });
      expect(refused.status).to.equal(429);
      expect(refused.html).to.match(/The email address was changed too often\. Try again in (60|59) minutes\./);
      expect((await suite.app.queries.accounts.findById(account.id))?.email).to.equal('hop5@example.org');
      expect(mailsTo('hop6@example.org')).to.have.length(0);
      // A name change sends no mail and is not limited.
      const renamed = await browser.submit(refused, '/account/profile', { name: 'Grace H', email: 'hop5@example.org' });
      expect(renamed.url).to.equal(url('/account/profile?saved=1'));
    });

    it('asks an account with an app to confirm it is you before an email change after 10 minutes, then tells both addresses', async function () {
      const { account, secret } = await sysadminWithApp('mover', { verified: true });
      const { browser } = await signInToSettings('mover', secret);
      suite.clock.now += ELEVEN_MINUTES;
      const profile = await browser.follow(url('/account/profile'));
      const refused = await browser.submit(profile, '/account/profile', { name: account.name, email: 'mover-new@example.org' });
      expect(refused.status).to.equal(403);
      expect(refused.html).to.contain(`<a href="/account/verify?return=/account/profile">confirm it's you</a>`);
      const unchanged = await suite.app.queries.accounts.findById(account.id);
      expect(unchanged?.email).to.equal(account.email);
      expect(unchanged?.emailVerifiedAt).to.be.instanceOf(Date);

      const verify = await browser.follow(url('/account/verify?return=/account/profile'));
      expect(verify.html).to.contain("Confirm it's you");
      suite.clock.nextStep();
      const back = await browser.submit(verify, '/account/verify', { password: PASSWORD, code: codeFor(secret, suite.clock), return: hiddenInput(verify.html, 'return')! });
      expect(back.url).to.equal(url('/account/profile'));
      const saved = await browser.submit(back, '/account/profile', { name: account.name, email: 'mover-new@example.org' });
      expect(saved.url).to.equal(url('/account/profile?saved=email'));
      expect(saved.html).to.contain('Your profile was saved.');
      // The change is followed by the offer to end the other sessions (ASVS 7.4.3).
      expect(saved.html).to.match(/<form method="post" action="\/account\/logout-others">[\s\S]*?>Log out of other sessions<\/button>/);
      const ended = await browser.submit(saved, '/account/logout-others', {});
      expect(ended.url).to.equal(url('/account?others=logged-out'));
      const changed = await suite.app.queries.accounts.findById(account.id);
      expect(changed?.email).to.equal('mover-new@example.org');
      expect(changed?.emailVerifiedAt).to.equal(null);
      const notice = await mailTo(account.email, /email address of your Twofold account was changed/);
      expect(notice.text).to.contain('mover-new@example.org');
      expect((await mailTo('mover-new@example.org', /Confirm your email address/)).text).to.match(/\/account\/verify-email\?token=/);
      expect(await events(account.id, 'account.email_changed')).to.have.length(1);
    });

    it('verifies a new address through its link: the GET only shows a Confirm button, the POST verifies, once', async function () {
      const account = await createUser(suite.app, { username: 'linker', password: PASSWORD });
      const { browser } = await signInToSettings('linker');
      const profile = await browser.follow(url('/account/profile'));
      await browser.submit(profile, '/account/profile', { name: account.name, email: 'linker-new@example.org' });
      const mail = await mailTo('linker-new@example.org', /Confirm your email address/);
      const link = /(http\S+\/account\/verify-email\?token=[A-Za-z0-9_-]+)/.exec(mail.text)?.[1];
      expect(link, mail.text).to.be.a('string');

      // Opened in another browser, without a session, as from a mail program.
      const reader = new Browser();
      const page = await reader.follow(link!);
      expect(page.status).to.equal(200);
      expect(page.html).to.contain('<strong>linker-new@example.org</strong>');
      expect(page.html).to.contain('>Confirm</button>');
      expect((await suite.app.queries.accounts.findById(account.id))?.emailVerifiedAt, 'a GET changes nothing').to.equal(null);
      const token = hiddenInput(page.html, 'token')!;
      const verified = await reader.submit(page, '/account/verify-email', { token });
      expect(verified.status).to.equal(200);
      expect(verified.html).to.contain('Your back-up email address is verified.');
      expect((await suite.app.queries.accounts.findById(account.id))?.emailVerifiedAt).to.be.instanceOf(Date);

      const again = await reader.submit(page, '/account/verify-email', { token });
      expect(again.status).to.equal(400);
      expect(again.html).to.contain('This link is not valid any more.');
      expect((await reader.follow(link!)).status).to.equal(400);
    });
  });

  it('shows the app (connected since, last used) and the back-up email status, and sends the link again', async function () {
    const { account, secret } = await sysadminWithApp('status');
    const { browser } = await signInToSettings('status', secret);
    const totp = (await suite.app.queries.totp.find(account.id))!;
    const page = await browser.follow(url('/account/two-factor'));
    expect(page.html).to.contain(`<dt>Connected since</dt><dd>${totp.connectedAt.toUTCString()}</dd>`);
    expect(page.html).to.contain(`<dt>Last used</dt><dd>${totp.lastUsedAt!.toUTCString()}</dd>`);
    expect(page.html).to.contain('<dd>Not verified');
    expect(page.html).to.contain('Send the verification link again</button>');

    const sent = await browser.submit(page, '/account/verify-email/send', {});
    expect(sent.url).to.equal(url('/account/two-factor?email=sent'));
    expect(sent.html).to.contain(`We sent a verification link to ${account.email}.`);
    expect((await mailTo(account.email, /Confirm your email address/)).text).to.contain('/account/verify-email?token=');

    await suite.app.queries.accounts.markEmailVerified(account.id, account.email);
    const verified = await browser.follow(url('/account/two-factor'));
    expect(verified.html).to.contain('<dd>Verified');
    expect(verified.html).not.to.contain('Send the verification link again');
  });

  it('disconnects the app only with the password and a recent second factor, then tells the user to log out and in again', async function () {
    const { account, secret } = await sysadminWithApp('unplug');
    const { browser } = await signInToSettings('unplug', secret);
    const confirm = await browser.follow(url('/account/two-factor/disconnect'));
    expect(confirm.html).to.contain('Disconnect your authenticator app?');
    expect(await suite.app.queries.totp.find(account.id), 'a GET changes nothing').not.to.equal(undefined);

    suite.clock.now += ELEVEN_MINUTES;
    const stale = await browser.request(url('/account/two-factor/disconnect'), { form: { _csrf: hiddenInput(confirm.html, '_csrf')! } });
    expect(stale.status).to.equal(303);
    expect(stale.headers.get('location')).to.equal('/account/verify?return=%2Faccount%2Ftwo-factor%2Fdisconnect');
    expect(await suite.app.queries.totp.find(account.id)).not.to.equal(undefined);
    expect(await events(account.id, 'mfa.disconnected')).to.have.length(0);

    const verify = await browser.follow(url('/account/verify?return=%2Faccount%2Ftwo-factor%2Fdisconnect'));
    suite.clock.nextStep();
    const returnTo = hiddenInput(verify.html, 'return')!;
    expect(returnTo).to.equal('/account/two-factor/disconnect');
    // The password first, then the code: a missing or wrong password spends no code, and counts like one at the login.
    expect(verify.html).to.contain('autocomplete="current-password"');
    const stepBefore = (await suite.app.queries.totp.find(account.id))?.lastStep;
    const noPassword = await browser.submit(verify, '/account/verify', { code: codeFor(secret, suite.clock), return: returnTo });
    expect(noPassword.status).to.equal(400);
    expect(noPassword.html).to.contain('Enter your password.');
    const wrongPassword = await browser.submit(noPassword, '/account/verify', { password: `${PASSWORD}x`, code: codeFor(secret, suite.clock), return: returnTo });
    expect(wrongPassword.status).to.equal(400);
    expect(wrongPassword.html).to.contain('That password is not right.');
    expect((await events(account.id, 'password.failed')).map((e) => e.details)).to.deep.equal([{ via: 'confirm-it-is-you' }]);
    expect((await suite.app.queries.totp.find(account.id))?.lastStep, 'no code was spent').to.equal(stepBefore);
    const wrong = await browser.submit(wrongPassword, '/account/verify', { password: PASSWORD, code: wrongCode(codeFor(secret, suite.clock)), return: returnTo });
    expect(wrong.status).to.equal(400);
    expect(wrong.html).to.contain('That code is not right.');
    const again = await browser.submit(wrong, '/account/verify', { password: PASSWORD, code: codeFor(secret, suite.clock), return: returnTo });
    expect(again.url).to.equal(url('/account/two-factor/disconnect'));
    // The re-check is in the audit log like the same step of a login, marked as such.
    expect((await events(account.id, 'mfa.totp.rejected')).map((e) => e.details)).to.deep.equal([{ reason: 'wrong', via: 'confirm-it-is-you' }]);
    expect((await events(account.id, 'mfa.totp.accepted')).map((e) => e.details)).to.deep.include({ via: 'confirm-it-is-you' });
    const done = await browser.submit(again, '/two-factor/disconnect', {});
    expect(done.status).to.equal(200);
    expect(done.html).to.contain('Two-factor authentication is disconnected');
    expect(done.html).to.contain('Log out, then log in again');
    expect(done.html).to.match(/<form method="post" action="\/account\/logout">[\s\S]*?>Log out<\/button>\s*<\/form>\s*<\/section>/);
    expect(await suite.app.queries.totp.find(account.id)).to.equal(undefined);
    const [event] = await events(account.id, 'mfa.disconnected');
    expect(event?.details).to.deep.equal({ recovery: false, sessionsEnded: 0, grantsRevoked: 0 });
    expect((await mailTo(account.email, /authenticator app was disconnected/)).text).not.to.contain('back-up code sent by email');
  });

  it('gives the session a new id when the person confirms it is them: the id from before no longer opens the settings', async function () {
    const { secret } = await sysadminWithApp('renewed');
    const { browser } = await signInToSettings('renewed', secret);
    suite.clock.now += ELEVEN_MINUTES;
    const verify = await browser.follow(url('/account/verify?return=/account/profile'));
    const before = (await browser.jar.getCookies(url('/account'))).filter((c) => c.key.startsWith('_session'));
    expect(before.map((c) => c.key).sort()).to.deep.equal(['_session', '_session.sig']);

    suite.clock.nextStep();
    const done = await browser.submit(verify, '/account/verify', { password: PASSWORD, code: codeFor(secret, suite.clock), return: '/account/profile' });
    expect(done.url).to.equal(url('/account/profile'));
    const after = (await browser.jar.getCookies(url('/account'))).find((c) => c.key === '_session');
    expect(after?.value).to.be.a('string').and.not.equal(before.find((c) => c.key === '_session')!.value);
    expect((await browser.follow(url('/account'))).html).to.contain('Your settings');

    // Someone holding the cookies from before the re-check is not signed in.
    const copied = new Browser();
    for (const cookie of before) await copied.jar.setCookie(cookie.toString(), url('/account'));
    const refused = await copied.request(url('/account'));
    expect(refused.status).to.equal(302);
    expect(refused.headers.get('location')).to.match(/\/auth\?/);
  });

  it('confirms it is you with a back-up code by email: audited as a re-check, and the owner told the code was used', async function () {
    const { account, secret } = await sysadminWithApp('mailcheck', { verified: true });
    const { browser } = await signInToSettings('mailcheck', secret);
    suite.clock.now += ELEVEN_MINUTES;
    const verify = await browser.follow(url('/account/verify?return=/account/profile'));
    const sent = await browser.submit(verify, '/account/verify/email-code', { return: '/account/profile' });
    expect(sent.status).to.equal(200);
    const code = /\b(\d{6})\b/.exec((await mailTo(account.email, /back-up code$/)).text)?.[1] ?? '';
    const wrong = await browser.submit(sent, '/account/verify/email-code/check', { password: PASSWORD, code: code === '123456' ? '654321' : '123456', return: '/account/profile' });
    expect(wrong.status).to.equal(400);
    const wrongPassword = await browser.submit(wrong, '/account/verify/email-code/check', { password: 'not the password', code, return: '/account/profile' });
    expect(wrongPassword.status).to.equal(400);
    expect(wrongPassword.html).to.contain('That password is not right.');
    const done = await browser.submit(wrongPassword, '/account/verify/email-code/check', { password: PASSWORD, code, return: '/account/profile' });
    expect(done.url).to.equal(url('/account/profile'));
    for (const event of ['mfa.email.sent', 'mfa.email.rejected', 'mfa.email.accepted']) {
      expect((await events(account.id, event)).map((e) => e.details), event).to.deep.equal([{ via: 'confirm-it-is-you' }]);
    }
    expect((await mailTo(account.email, /A back-up code was used/)).text).to.contain('IP address: 127.0.0.1');
  });

  it('switches to a new phone: a new key, the old app working until the new one is proven, then only the new one', async function () {
    const { account, secret: oldSecret } = await sysadminWithApp('switcher');
    const { browser } = await signInToSettings('switcher', oldSecret);
    const twoFactor = await browser.follow(url('/account/two-factor'));
    expect(twoFactor.html).to.contain('href="/account/two-factor/connect">Switch to a new phone</a>');
    const connect = await browser.follow(url('/account/two-factor/connect'));
    expect(connect.html).to.contain('Switch to a new phone');
    expect(connect.html).to.contain('Your current app keeps working until the new phone is connected.');
    const newSecret = secretOnPage(connect.html);
    expect(newSecret).not.to.equal(oldSecret);

    const { browser: elsewhere } = await signInToSettings('switcher', oldSecret, new Browser());
    expect((await suite.app.queries.totp.find(account.id))?.secret).to.equal(oldSecret);

    suite.clock.nextStep();
    const connected = await browser.submit(connect, '/two-factor/connect', { code: codeFor(newSecret, suite.clock) });
    expect(connected.url).to.equal(url('/account/two-factor?connected=switched'));
    expect(connected.html).to.contain('Your authenticator app is connected. You were logged out everywhere else');
    expect((await suite.app.queries.totp.find(account.id))?.secret).to.equal(newSecret);
    expect((await events(account.id, 'mfa.connected'))[0]?.details).to.deep.equal({ switched: true, sessionsEnded: 1, grantsRevoked: 1 });
    // The session signed in with the old phone has ended; this one goes on.
    expect((await elsewhere.request(url('/account'))).status).to.equal(302);
    expect((await browser.request(url('/account'))).status).to.equal(200);

    const other = new Browser();
    const codePage = await other.submit(await other.follow(url('/account')), '/login', { username: 'switcher', password: PASSWORD });
    suite.clock.nextStep();
    const old = await other.submit(codePage, '/totp', { code: codeFor(oldSecret, suite.clock) });
    expect(old.status).to.equal(401);
    expect(old.html).to.contain('That code is not right.');
    const fresh = await other.submit(old, '/totp', { code: codeFor(newSecret, suite.clock) });
    expect(fresh.url).to.equal(url('/account'));
  });

  it('changes the password with the current one: checked, counted, logged out elsewhere, told by email and audited', async function () {
    const { account, secret } = await sysadminWithApp('rekey');
    const { browser, page } = await signInToSettings('rekey', secret);
    expect(page.html).to.contain('<a href="/account/password">Change password</a>');
    const { browser: elsewhere } = await signInToSettings('rekey', secret);
    const form = await browser.follow(url('/account/password'));
    expect(form.html).to.contain('<label for="current_password">Current password</label>');
    const NEW = 'a brand new passphrase here';

    const wrong = await browser.submit(form, '/account/password', { current_password: 'not it', new_password: NEW, repeat_password: NEW });
    expect(wrong.status).to.equal(400);
    expect(wrong.html).to.contain('Your current password is not right.');
    expect((await events(account.id, 'password.failed')).map((e) => e.details)).to.deep.equal([{ via: 'change' }]);
    const mismatch = await browser.submit(wrong, '/account/password', { current_password: PASSWORD, new_password: NEW, repeat_password: `${NEW}!` });
    expect(mismatch.status).to.equal(400);
    expect(mismatch.html).to.contain('The new password and its repetition are not the same.');
    const weak = await browser.submit(mismatch, '/account/password', { current_password: PASSWORD, new_password: 'rekey-rekey-rekey', repeat_password: 'rekey-rekey-rekey' });
    expect(weak.status).to.equal(400);
    expect(weak.html).to.contain('must not contain the username');
    expect(await suite.app.queries.accounts.findById(account.id)).to.include({ passwordHash: account.passwordHash });

    const done = await browser.submit(weak, '/account/password', { current_password: PASSWORD, new_password: NEW, repeat_password: NEW });
    expect(done.url).to.equal(url('/account/password?changed=1'));
    expect(done.html).to.contain('Your password was changed. You were logged out everywhere else.');
    expect((await events(account.id, 'account.password_changed'))[0]?.details).to.include({ sessionsEnded: 1 });
    expect((await mailTo(account.email, /password of your Twofold account was changed/)).text).to.contain('IP address: 127.0.0.1');
    // The other session has ended; this one goes on. The old password no longer signs in, the new one does.
    expect((await elsewhere.request(url('/account'))).status).to.equal(302);
    expect((await browser.request(url('/account'))).status).to.equal(200);
    const fresh = new Browser();
    const refused = await fresh.submit(await fresh.follow(url('/account')), '/login', { username: 'rekey', password: PASSWORD });
    expect(refused.status).to.equal(401);
    const accepted = await fresh.submit(refused, '/login', { username: 'rekey', password: NEW });
    expect(accepted.html).to.contain('<label for="code">Code</label>');
  });

  it('counts wrong current passwords with the login\'s: the 10th locks both, and the owner is told once', async function () {
    const { account, secret } = await sysadminWithApp('guessme');
    const { browser } = await signInToSettings('guessme', secret);
    let page = await browser.follow(url('/account/password'));
    for (let i = 0; i < 9; i++) page = await browser.submit(page, '/account/password', { current_password: `wrong ${i}`, new_password: 'x', repeat_password: 'x' });
    expect(page.status).to.equal(400);
    const locked = await browser.submit(page, '/account/password', { current_password: PASSWORD, new_password: 'x', repeat_password: 'x' });
    expect(locked.status).to.equal(400);
    const tenth = await browser.submit(locked, '/account/password', { current_password: 'wrong again', new_password: 'x', repeat_password: 'x' });
    expect(tenth.status).to.equal(429);
    expect(tenth.html).to.contain('Too many failed attempts. Try again in 15 minutes.');
    expect((await mailTo(account.email, /locked after wrong passwords/)).text).to.contain('locked for 15 minutes');
    const login = new Browser();
    const refused = await login.submit(await login.follow(url('/account')), '/login', { username: 'guessme', password: PASSWORD });
    expect(refused.status).to.equal(429);
  });

  it('logs out from the menu: /account asks for the login again and prompt=none gets login_required', async function () {
    await createUser(suite.app, { username: 'leaver', password: PASSWORD });
    const { browser, page } = await signInToSettings('leaver');
    const silentBefore = await openLogin(browser, suite.rp, await startAuthorization(suite.rp, { prompt: 'none' }));
    expect(new URL(silentBefore.stoppedAt!).searchParams.get('code'), 'the session works before').to.be.a('string');

    const cookiesBefore = await browser.jar.getCookieString(url('/account'));
    const out = await browser.submit(page, '/account/logout', {});
    expect(out.html).to.contain('You are logged out');
    expect(out.html).not.to.contain('<summary>');
    // The session is destroyed on the server too: a copy of the old cookie opens nothing.
    const replay = await new Browser().request(url('/account'), { headers: { cookie: cookiesBefore } });
    expect(replay.status).to.equal(302);
    const again = await browser.request(url('/account'));
    expect(again.status).to.equal(302);
    expect(new URL(again.headers.get('location')!).searchParams.get('client_id')).to.equal('twofold-account');
    const silent = await openLogin(browser, suite.rp, await startAuthorization(suite.rp, { prompt: 'none' }));
    expect(new URL(silent.stoppedAt!).searchParams.get('error')).to.equal('login_required');
  });

  it('refuses a profile POST without its CSRF token, and a Disconnect without a session', async function () {
    const { account, secret } = await sysadminWithApp('guarded');
    const { browser, page } = await signInToSettings('guarded', secret);
    const forged = await browser.request(url('/account/profile'), { form: { name: 'Mallory', email: 'mallory@example.org' } });
    expect(forged.status).to.equal(403);
    expect(await forged.text()).to.contain('Your form has expired');
    expect((await suite.app.queries.accounts.findById(account.id))?.name).to.equal(account.name);

    // A valid form token from before the logout: the refusal comes from the missing session, not from CSRF.
    const csrf = hiddenInput(page.html, '_csrf')!;
    await browser.submit(page, '/account/logout', {});
    const signedOut = await browser.request(url('/account/two-factor/disconnect'), { form: { _csrf: csrf } });
    expect(signedOut.status).to.equal(403);
    expect(signedOut.headers.get('location')).to.equal(null);
    expect(await signedOut.text()).not.to.contain('Your form has expired');
    expect(await suite.app.queries.totp.find(account.id)).not.to.equal(undefined);
    expect(await events(account.id, 'mfa.disconnected')).to.have.length(0);
  });
});
