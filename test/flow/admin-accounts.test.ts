// The admin console's accounts: search, create, role, disable/enable, the sysadmins' 2FA view and resetting 2FA.
import { expect } from 'chai';
import * as oidc from 'openid-client';
import { Browser, hiddenInput, type Page } from '../helpers/browser.js';
import { createUser } from '../helpers/app.js';
import { signInAsAdmin, type AdminSession } from '../helpers/admin.js';
import { connectAuthenticator } from '../helpers/phone.js';
import { isCallback, openLogin, signIn, startAuthorization, submitPassword } from '../helpers/relying-party.js';
import { useFlowSuite } from '../helpers/flow-suite.js';
import { hashPassword } from '../../src/security/passwords.js';
import { createTotpSecret } from '../../src/security/totp.js';
import type { Account } from '../../src/storage/queries.js';

const PASSWORD = 'accounts flow password';

describe('admin console: accounts and 2FA oversight', function () {
  const suite = useFlowSuite({ smtp: true, env: { MAIL_FROM: 'Twofold <no-reply@twofold.test>' } });
  let admin: AdminSession;
  let passwordHash: string;

  before(async function () {
    admin = await signInAsAdmin(suite.app, suite.clock, 'console-admin');
    passwordHash = await hashPassword(PASSWORD);
  });

  const open = (path: string) => admin.browser.follow(`${suite.app.issuer}${path}`);
  const usernamesOn = (page: Page) => [...page.html.matchAll(/<tr data-username="([^"]+)"/g)].map((m) => m[1]!);
  const rowOf = (page: Page, username: string) => {
    const start = page.html.indexOf(`<tr data-username="${username}"`);
    if (start < 0) throw new Error(`no row for ${username}:\n${page.html.slice(0, 2000)}`);
    return page.html.slice(start, page.html.indexOf('</tr>', start)).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ');
  };
  // Accounts created straight in storage, with one shared hash: argon2 for each would make paging tests slow.
  async function quickAccount(username: string, input: { name?: string; email?: string; role?: 'user' | 'sysadmin' } = {}): Promise<Account> {
    const result = await suite.app.queries.accounts.create({ username, name: input.name ?? `Person ${username}`, email: input.email ?? `${username}@example.com`, role: input.role ?? 'user', passwordHash });
    if (result.status !== 'CREATED') throw new Error(`could not create ${username}`);
    return result.account;
  }
  const auditOf = async (accountId: string, event: string) => suite.app.queries.auditEvents.list({ accountId, event, limit: 10 });

  it('finds accounts by part of the username, name or email, in any letter case, 50 a page, escaped', async function () {
    await quickAccount('Ops-Finder', { email: 'finder@corp.example' });
    await quickAccount('zeta', { email: 'Zeta.FINDME@corp.example' });
    await quickAccount('hostile', { name: '<script>alert(1)</script>', email: 'hostile@corp.example' });
    const byUsername = await open('/admin/accounts?q=oPs-FIN');
    expect(byUsername.status).to.equal(200);
    expect(byUsername.html).to.contain('aria-current="page">Accounts</a>');
    expect(usernamesOn(byUsername)).to.deep.equal(['Ops-Finder']);
    expect(rowOf(byUsername, 'Ops-Finder')).to.match(/Ops-Finder Person Ops-Finder finder@corp\.example user no no \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(usernamesOn(await open('/admin/accounts?q=findme'))).to.deep.equal(['zeta']);
    expect(usernamesOn(await open('/admin/accounts?q=CORP.example'))).to.deep.equal(['hostile', 'Ops-Finder', 'zeta']);
    const escaped = await open('/admin/accounts?q=%3Cscript');
    expect(usernamesOn(escaped)).to.deep.equal(['hostile']);
    expect(escaped.html).not.to.contain('<script>');
    expect(escaped.html).to.contain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(usernamesOn(await open('/admin/accounts?q=%25'))).to.deep.equal([]); // % is matched literally

    for (let i = 0; i < 55; i++) await quickAccount(`pager-${String(i).padStart(3, '0')}`);
    const first = await open('/admin/accounts?q=PAGER-');
    expect(usernamesOn(first)).to.have.length(50);
    expect(usernamesOn(first)[0]).to.equal('pager-000');
    const next = /href="([^"]+)" rel="next"/.exec(first.html)?.[1]?.replace(/&amp;/g, '&');
    expect(next).to.equal('/admin/accounts?q=PAGER-&after=pager-049');
    const second = await open(next!);
    expect(usernamesOn(second)).to.deep.equal(['pager-050', 'pager-051', 'pager-052', 'pager-053', 'pager-054']);
    expect(second.html).not.to.contain('rel="next"');
    expect(second.html).to.contain('>First page</a>');
  });

  it('creates an account: errors next to the fields, duplicate username and weak password refused; the person can then log in', async function () {
    const form = await open('/admin/accounts/new');
    expect(hiddenInput(form.html, '_csrf')).to.be.a('string');
    const invalid = await admin.browser.submit(form, '/admin/accounts/new', { username: 'a b', name: ' ', email: 'not-an-email', role: 'root', password: 'short' });
    expect(invalid.status).to.equal(400);
    expect(invalid.html).to.contain('The account was not created.');
    for (const id of ['username', 'name', 'email', 'role', 'password']) expect(invalid.html).to.contain(`id="${id}-error"`);
    expect(invalid.html).to.contain('The username must have 3 to 64 characters: letters, digits and . _ - @ only.');
    expect(invalid.html).to.contain('The password must have at least 8 characters');
    expect(invalid.html).to.contain('value="not-an-email"');
    expect(invalid.html).not.to.contain('value="short"');

    const taken = await admin.browser.submit(invalid, '/admin/accounts/new', { username: 'CONSOLE-ADMIN', name: 'Copy', email: 'copy@example.com', role: 'user', password: PASSWORD });
    expect(taken.status).to.equal(400);
    expect(taken.html).to.contain('This username is taken. Choose another one.');
    const weak = await admin.browser.submit(taken, '/admin/accounts/new', { username: 'new-person', name: 'New Person', email: 'new@example.com', role: 'user', password: 'password123' });
    expect(weak.status).to.equal(400);
    expect(weak.html).to.contain('This password is on a list of common or breached passwords');
    expect(await suite.app.queries.accounts.findByUsername('new-person')).to.equal(undefined);

    const created = await admin.browser.submit(weak, '/admin/accounts/new', { username: 'new-person', name: 'New Person', email: 'new@example.com', role: 'user', password: 'a fresh initial password' });
    expect(created.status).to.equal(200);
    expect(created.url).to.match(/\/admin\/accounts\/[0-9a-f-]{36}\?done=created$/);
    expect(created.html).to.contain('The account was created.');
    const account = (await suite.app.queries.accounts.findByUsername('new-person'))!;
    expect(account).to.include({ name: 'New Person', email: 'new@example.com', role: 'user', disabled: false });
    const [event] = await auditOf(account.id, 'account.created');
    expect(event?.actorId).to.equal(admin.account.id);

    const { tokens } = await signIn(new Browser(), suite.rp, 'new-person', 'a fresh initial password');
    expect(tokens.claims()?.preferred_username).to.equal('new-person');
  });

  it('changes the role after a confirmation page, and refuses to demote oneself', async function () {
    const target = await quickAccount('promoted');
    const confirm = await open(`/admin/accounts/${target.id}/role?to=sysadmin`);
    expect(confirm.html).to.contain('Make promoted a sysadmin?');
    expect((await suite.app.queries.accounts.findById(target.id))?.role).to.equal('user');
    // The browser sends the form's hidden field, as a real one would.
    const done = await admin.browser.submit(confirm, '/role', { to: hiddenInput(confirm.html, 'to')! });
    expect(done.html).to.contain('The role is now sysadmin.');
    expect((await suite.app.queries.accounts.findById(target.id))?.role).to.equal('sysadmin');
    const [changed] = await auditOf(target.id, 'account.role_changed');
    expect(changed).to.deep.include({ actorId: admin.account.id, details: { from: 'user', to: 'sysadmin' } });
    const back = await admin.browser.submit(await open(`/admin/accounts/${target.id}/role?to=user`), '/role', { to: 'user' });
    expect(back.html).to.contain('The role is now user.');

    const self = await open(`/admin/accounts/${admin.account.id}/role?to=user`);
    expect(self.status).to.equal(403);
    expect(self.html).to.contain('You cannot take away your own sysadmin role.');
    expect(self.html).not.to.contain('/role"');
    const forged = await admin.browser.request(`${suite.app.issuer}/admin/accounts/${admin.account.id}/role`, { form: { _csrf: hiddenInput(confirm.html, '_csrf')!, to: 'user' } });
    expect(forged.status).to.equal(403);
    expect(await forged.text()).to.contain('You cannot take away your own sysadmin role.');
    expect((await suite.app.queries.accounts.findById(admin.account.id))?.role).to.equal('sysadmin');
  });

  it('disables an account: no login (as with a wrong password), refresh token, userinfo or session; enables it again', async function () {
    const user = await createUser(suite.app, { username: 'leaver', password: PASSWORD });
    const userBrowser = new Browser();
    const { tokens } = await signIn(userBrowser, suite.rp, 'leaver', PASSWORD, { scope: 'openid offline_access', prompt: 'consent' });
    expect(tokens.refresh_token).to.be.a('string');

    const confirm = await open(`/admin/accounts/${user.id}/disable`);
    expect(confirm.html).to.contain('Disable leaver?');
    const noCsrf = await admin.browser.request(`${suite.app.issuer}/admin/accounts/${user.id}/disable`, { form: {} });
    expect(noCsrf.status).to.equal(403);
    expect((await suite.app.queries.accounts.findById(user.id))?.disabled).to.equal(false);
    const done = await admin.browser.submit(confirm, '/disable', {});
    expect(done.html).to.contain('The account is disabled.');
    expect((await auditOf(user.id, 'account.disabled'))[0]?.actorId).to.equal(admin.account.id);

    const refreshed = await oidc.refreshTokenGrant(suite.rp.config, tokens.refresh_token!).then(() => 'accepted', (err: { error?: string }) => err.error);
    expect(refreshed).to.equal('invalid_grant');
    const userinfo = await oidc.fetchUserInfo(suite.rp.config, tokens.access_token, user.id).then(() => 'served', () => 'refused');
    expect(userinfo).to.equal('refused');
    // The browser's Twofold session is not reused: the login page comes back instead of a code for the client.
    const reuse = await openLogin(userBrowser, suite.rp, await startAuthorization(suite.rp));
    expect(reuse.stoppedAt).to.equal(undefined);
    expect(reuse.html).to.contain('<label for="password">');
    const silent = await openLogin(userBrowser, suite.rp, await startAuthorization(suite.rp, { prompt: 'none' }));
    expect(new URL(silent.stoppedAt!).searchParams.get('error')).to.equal('login_required');
    const settings = await userBrowser.follow(`${suite.app.issuer}/account`);
    expect(settings.html).to.contain('<label for="password">');

    const login = async (password: string) => {
      const browser = new Browser();
      return submitPassword(browser, suite.rp, await openLogin(browser, suite.rp, await startAuthorization(suite.rp)), 'leaver', password);
    };
    const right = await login(PASSWORD);
    const wrong = await login('a wrong password here');
    expect(right.stoppedAt).to.equal(undefined);
    expect(right.status).to.equal(wrong.status);
    expect(right.html).to.contain('The username or password is incorrect.');
    expect(wrong.html).to.contain('The username or password is incorrect.');

    const self = await open(`/admin/accounts/${admin.account.id}/disable`);
    expect(self.status).to.equal(403);
    expect(self.html).to.contain('You cannot disable your own account.');

    const enabled = await admin.browser.submit(await open(`/admin/accounts/${user.id}/enable`), '/enable', {});
    expect(enabled.html).to.contain('The account is enabled again.');
    expect((await auditOf(user.id, 'account.enabled'))[0]?.actorId).to.equal(admin.account.id);
    const again = await signIn(new Browser(), suite.rp, 'leaver', PASSWORD);
    expect(again.tokens.claims()?.sub).to.equal(user.id);
  });

  it('lists every sysadmin with their 2FA, postponements left, last second factor and back-up email, and a summary', async function () {
    const withApp = await quickAccount('c-with-app', { role: 'sysadmin' });
    await connectAuthenticator(suite.app, withApp.id, createTotpSecret());
    await suite.app.queries.accounts.markEmailVerified(withApp.id, withApp.email);
    await suite.app.queries.auditEvents.record({ event: 'mfa.email.accepted', accountId: withApp.id });
    const postponed = await quickAccount('c-postponed', { role: 'sysadmin' });
    await suite.app.queries.accounts.usePostponement(postponed.id, 5);
    await suite.app.queries.accounts.usePostponement(postponed.id, 5);
    const hadApp = await quickAccount('c-had-app', { role: 'sysadmin' });
    await connectAuthenticator(suite.app, hadApp.id, createTotpSecret());
    await suite.app.queries.totp.disconnect(hadApp.id);
    await quickAccount('c-plain-user');

    const page = await open('/admin/compliance');
    expect(page.status).to.equal(200);
    expect(page.html).to.contain('aria-current="page">Sysadmins’ 2FA</a>');
    const sysadmins = (await suite.app.queries.accounts.list()).filter((a) => a.role === 'sysadmin');
    const using = (await Promise.all(sysadmins.map((a) => suite.app.queries.totp.find(a.id)))).filter(Boolean).length;
    expect(page.html).to.contain(`${using} of ${sysadmins.length} sysadmins use two-factor authentication.`);
    expect(usernamesOn(page)).to.have.members(sysadmins.map((a) => a.username));
    expect(usernamesOn(page)).not.to.include('c-plain-user');

    const stamp = /\d{4}-\d\d-\d\d \d\d:\d\d UTC/.source;
    expect(rowOf(page, 'c-with-app')).to.match(new RegExp(`Connected since ${stamp} Not needed App: ${stamp} Email code: ${stamp} yes Reset 2FA`));
    expect(rowOf(page, 'c-postponed')).to.match(/Not connected 3 left App: never Email code: never no\s*$/);
    expect(rowOf(page, 'c-had-app')).to.match(/Not connected None: had 2FA before App: never Email code: never no\s*$/);
    expect(rowOf(page, 'console-admin')).not.to.contain('Reset 2FA');
  });

  it('resets a user’s 2FA with a reason: app gone, audit with the admin, email sent, next login straight to setup', async function () {
    const target = await createUser(suite.app, { username: 'r-target', password: PASSWORD, role: 'sysadmin', email: 'r-target@example.com' });
    await connectAuthenticator(suite.app, target.id, createTotpSecret());
    const form = await open(`/admin/accounts/${target.id}/reset-2fa`);
    expect(form.html).to.contain('<textarea id="reason" name="reason"');
    expect(hiddenInput(form.html, '_csrf')).to.be.a('string');

    for (const fields of [{ reason: '', confirm: 'yes' }, { reason: ' too short ', confirm: 'yes' }, { reason: 'x'.repeat(501), confirm: 'yes' }]) {
      const refused = await admin.browser.submit(form, '/reset-2fa', fields);
      expect(refused.status).to.equal(400);
      expect(refused.html).to.contain('Give a reason of 10 to 500 characters.');
    }
    const unconfirmed = await admin.browser.submit(form, '/reset-2fa', { reason: 'Lost phone, ticket 4711' });
    expect(unconfirmed.status).to.equal(400);
    expect(unconfirmed.html).to.contain('Tick the box to confirm.');
    expect(unconfirmed.html).to.contain('>Lost phone, ticket 4711</textarea>');
    expect(await suite.app.queries.totp.find(target.id)).not.to.equal(undefined);
    expect(await auditOf(target.id, 'mfa.reset')).to.have.length(0);

    const reason = 'Lost phone <b>today</b>, ticket 4711';
    const done = await admin.browser.submit(unconfirmed, '/reset-2fa', { reason, confirm: 'yes' });
    expect(done.url).to.match(/\?done=reset$/);
    expect(done.html).to.contain('Two-factor authentication was reset.');
    expect(await suite.app.queries.totp.find(target.id)).to.equal(undefined);
    expect((await suite.app.queries.accounts.findById(target.id))?.mfaConnectedBefore).to.equal(true);
    const [event] = await auditOf(target.id, 'mfa.reset');
    expect(event).to.deep.include({ actorId: admin.account.id, details: { reason, sessionsEnded: 0, grantsRevoked: 0 } });
    const mail = await suite.smtp.waitFor((m) => m.to.includes('r-target@example.com') && /reset/.test(m.subject));
    expect(mail.text).to.contain(`The reason they gave: ${reason}`);
    expect(mail.html).not.to.contain('<b>today');

    const compliance = await open('/admin/compliance');
    expect(rowOf(compliance, 'r-target')).to.contain('Not connected None: had 2FA before');

    const browser = new Browser();
    const install = await submitPassword(browser, suite.rp, await openLogin(browser, suite.rp, await startAuthorization(suite.rp)), 'r-target', PASSWORD);
    expect(install.html).to.contain('Step 1 of 4: Install an authenticator app');
    expect(install.html).not.to.contain('Postpone');
  });

  it('still resets when the email cannot be sent, and warns the admin; refuses one’s own reset and a reset with no app', async function () {
    const target = await quickAccount('r-nomail', { role: 'sysadmin' });
    await connectAuthenticator(suite.app, target.id, createTotpSecret());
    const form = await open(`/admin/accounts/${target.id}/reset-2fa`);
    suite.smtp.refuse(true);
    let done: Page;
    try {
      done = await admin.browser.submit(form, '/reset-2fa', { reason: 'Phone replaced by IT', confirm: 'yes' });
    } finally {
      suite.smtp.refuse(false);
    }
    expect(done.url).to.match(/\?done=reset&mail=failed$/);
    expect(done.html).to.contain('We could not send the email telling Person r-nomail about the reset.');
    expect(await suite.app.queries.totp.find(target.id)).to.equal(undefined);
    expect(await auditOf(target.id, 'mfa.reset')).to.have.length(1);

    const again = await admin.browser.submit(form, '/reset-2fa', { reason: 'Phone replaced by IT', confirm: 'yes' });
    expect(again.status).to.equal(409);
    expect(again.html).to.contain('has no authenticator app connected');

    const self = await open(`/admin/accounts/${admin.account.id}/reset-2fa`);
    expect(self.status).to.equal(403);
    expect(self.html).to.contain('You cannot reset your own two-factor authentication here.');
    expect(self.html).to.contain('href="/account/two-factor"');
    const forged = await admin.browser.request(`${suite.app.issuer}/admin/accounts/${admin.account.id}/reset-2fa`, { form: { _csrf: hiddenInput(form.html, '_csrf')!, reason: 'Trying it on myself', confirm: 'yes' } });
    expect(forged.status).to.equal(403);
    expect(await suite.app.queries.totp.find(admin.account.id)).not.to.equal(undefined);
  });

  it('refuses a plain user with 403, and steps a postponed sysadmin up to setup, never showing the page', async function () {
    await createUser(suite.app, { username: 'not-admin', password: PASSWORD });
    const user = new Browser();
    const signedIn = await submitPassword(user, suite.rp, await openLogin(user, suite.rp, await startAuthorization(suite.rp)), 'not-admin', PASSWORD);
    expect(signedIn.stoppedAt).to.be.a('string');
    for (const path of ['/admin/accounts', '/admin/compliance', `/admin/accounts/${admin.account.id}/reset-2fa`]) {
      const page = await user.follow(`${suite.app.issuer}${path}`);
      expect(page.status).to.equal(403);
      expect(page.html).not.to.contain('<h1 id="accounts-title">');
    }

    await createUser(suite.app, { username: 'later-admin', password: PASSWORD, role: 'sysadmin' });
    const later = new Browser();
    const install = await submitPassword(later, suite.rp, await openLogin(later, suite.rp, await startAuthorization(suite.rp)), 'later-admin', PASSWORD);
    expect((await later.submit(install, '/setup/postpone', {}, isCallback(suite.rp))).stoppedAt).to.be.a('string');
    for (const path of ['/admin/accounts', '/admin/compliance']) {
      const stepUp = await later.follow(`${suite.app.issuer}${path}`);
      expect(stepUp.html).to.contain('Step 1 of 4: Install an authenticator app');
      expect(stepUp.html).not.to.contain('/setup/postpone');
      expect(stepUp.html).not.to.contain('accounts-title');
      expect(stepUp.html).not.to.contain('compliance-title');
    }
  });
});
