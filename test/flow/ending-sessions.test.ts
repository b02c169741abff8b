// Changes to an account's second factor or status end its other sessions and revoke its grants: Disconnect, Log out
// of other sessions, the console's 2FA reset and disable, and the CLI's users disable.
import { expect } from 'chai';
import * as oidc from 'openid-client';
import { Browser, type Page } from '../helpers/browser.js';
import { createUser } from '../helpers/app.js';
import { signInAsAdmin, type AdminSession } from '../helpers/admin.js';
import { codeFor, connectAuthenticator } from '../helpers/phone.js';
import { exchangeCode, isCallback, openLogin, startAuthorization, startSignIn } from '../helpers/relying-party.js';
import { STACK_LINE, useAppCli } from '../helpers/run-cli.js';
import { useFlowSuite } from '../helpers/flow-suite.js';
import { createTotpSecret } from '../../src/security/totp.js';

const PASSWORD = 'ending sessions password 1';

describe('ending other sessions', function () {
  this.timeout(60_000);
  const suite = useFlowSuite({ smtp: true, env: { MAIL_FROM: 'Twofold <no-reply@twofold.test>' } });
  // Disconnect needs a second factor within 10 minutes of the (real-time) login: each test starts at the real time.
  beforeEach(function () {
    suite.clock.now = Date.now();
  });

  const url = (p: string) => `${suite.app.issuer}${p}`;
  const events = (accountId: string, event: string) => suite.app.queries.auditEvents.list({ accountId, event, limit: 5 });

  /** A plain user with an authenticator app (any account may use 2FA): its sessions would outlive the app otherwise. */
  async function withApp(username: string) {
    const account = await createUser(suite.app, { username, password: PASSWORD });
    const secret = createTotpSecret();
    await connectAuthenticator(suite.app, account.id, secret);
    return { account, secret };
  }

  /** Signs in at the relying party with offline_access (a code too when `secret` is given); returns its tokens. */
  async function signInAtRp(username: string, secret?: string, browser = new Browser()) {
    const { start, page } = await startSignIn(suite.rp, username, PASSWORD, { scope: 'openid offline_access', prompt: 'consent' }, browser);
    let done = page;
    if (secret) {
      suite.clock.nextStep();
      done = await browser.submit(page, '/totp', { code: codeFor(secret, suite.clock) }, isCallback(suite.rp));
    }
    expect(done.stoppedAt, done.html.slice(0, 800)).to.be.a('string');
    const tokens = await exchangeCode(suite.rp, done.stoppedAt!, start);
    expect(tokens.refresh_token).to.be.a('string');
    return { browser, tokens };
  }

  /** Opens /account without a session and logs in (with a code when `secret` is given). */
  async function signInToSettings(username: string, secret?: string, browser = new Browser()): Promise<{ browser: Browser; page: Page }> {
    let page = await browser.submit(await browser.follow(url('/account')), '/login', { username, password: PASSWORD });
    if (secret) {
      suite.clock.nextStep();
      page = await browser.submit(page, '/totp', { code: codeFor(secret, suite.clock) });
    }
    expect(page.url, page.html.slice(0, 800)).to.equal(url('/account'));
    return { browser, page };
  }

  /** What a silent authorization (prompt=none) in this browser gets: 'code', or the error. */
  async function silentSignIn(browser: Browser): Promise<string> {
    const silent = await openLogin(browser, suite.rp, await startAuthorization(suite.rp, { prompt: 'none' }));
    const callback = new URL(silent.stoppedAt!);
    return callback.searchParams.get('error') ?? (callback.searchParams.get('code') ? 'code' : 'nothing');
  }
  const refresh = (refreshToken: string) =>
    oidc.refreshTokenGrant(suite.rp.config, refreshToken).then(() => 'accepted', (err: { error?: string }) => err.error ?? String(err));
  const active = async (accessToken: string) => (await oidc.tokenIntrospection(suite.rp.config, accessToken)).active;
  const settingsStatus = async (browser: Browser) => (await browser.request(url('/account'))).status;

  describe('Disconnect', function () {
    it('ends the other sessions and revokes every grant but the settings session\'s own, which stays signed in', async function () {
      const { account, secret } = await withApp('unplug');
      const { browser: here } = await signInToSettings('unplug', secret);
      // An application signed in to in this browser too: its grant came with the old app, so it goes.
      const start = await startAuthorization(suite.rp, { scope: 'openid offline_access', prompt: 'consent' });
      const hereAtRp = await openLogin(here, suite.rp, start);
      const hereTokens = await exchangeCode(suite.rp, hereAtRp.stoppedAt!, start);
      const { browser: there, tokens: thereTokens } = await signInAtRp('unplug', secret);
      expect(await silentSignIn(there), 'the other session works before').to.equal('code');
      // Both refresh tokens work before (each use rotates it: the new one is the one to try afterwards).
      const hereFresh = await oidc.refreshTokenGrant(suite.rp.config, hereTokens.refresh_token!);
      const thereFresh = await oidc.refreshTokenGrant(suite.rp.config, thereTokens.refresh_token!);

      const confirm = await here.follow(url('/account/two-factor/disconnect'));
      const done = await here.submit(confirm, '/two-factor/disconnect', {});
      expect(done.html).to.contain('Two-factor authentication is disconnected');
      expect(done.html).to.contain('You were logged out everywhere else, and applications you signed in to will ask you to log in again.');

      expect(await silentSignIn(there)).to.equal('login_required');
      expect(await settingsStatus(there)).to.equal(302);
      expect(await refresh(thereFresh.refresh_token!), 'the other browser\'s application').to.equal('invalid_grant');
      expect(await active(thereFresh.access_token)).to.equal(false);
      expect(await refresh(hereFresh.refresh_token!), 'this browser\'s application').to.equal('invalid_grant');
      expect(await active(hereFresh.access_token)).to.equal(false);
      expect(await settingsStatus(here), 'this session goes on').to.equal(200);
      const [event] = await events(account.id, 'mfa.disconnected');
      // Two application grants; the settings pages' own grant of this session is kept.
      expect(event?.details).to.deep.equal({ recovery: false, sessionsEnded: 1, grantsRevoked: 2 });
      expect((await suite.smtp.waitFor((m) => m.to.includes(account.email) && /disconnected/.test(m.subject))).text)
        .to.contain('You were logged out of Twofold everywhere else');

      const out = await here.submit(done, '/account/logout', {});
      expect(out.html).to.contain('You are logged out');
    });
  });

  describe('Log out of other sessions', function () {
    it('is a CSRF-protected button on Your settings that ends the other sessions and their grants, not this one\'s', async function () {
      const account = await createUser(suite.app, { username: 'tidy', password: PASSWORD });
      const { browser: here, tokens: hereTokens } = await signInAtRp('tidy');
      const { browser: there, tokens: thereTokens } = await signInAtRp('tidy');
      const { browser: third } = await signInToSettings('tidy');

      const settings = await here.follow(url('/account'));
      expect(settings.html).to.match(/<form method="post" action="\/account\/logout-others">[\s\S]*?>Log out of other sessions<\/button>/);
      const forged = await here.request(url('/account/logout-others'), { form: {} });
      expect(forged.status).to.equal(403);
      expect(await silentSignIn(there), 'nothing ended without the form token').to.equal('code');
      expect(await settingsStatus(third)).to.equal(200);

      const done = await here.submit(settings, '/account/logout-others', {});
      expect(done.url).to.equal(url('/account?others=logged-out'));
      expect(done.html).to.contain('You were logged out everywhere else.');
      expect(await silentSignIn(there)).to.equal('login_required');
      expect(await settingsStatus(third)).to.equal(302);
      expect(await refresh(thereTokens.refresh_token!)).to.equal('invalid_grant');
      expect(await active(thereTokens.access_token)).to.equal(false);
      expect(await refresh(hereTokens.refresh_token!), 'this browser\'s application keeps its grant').to.equal('accepted');
      expect(await silentSignIn(here)).to.equal('code');
      const [event] = await events(account.id, 'account.sessions_ended');
      // The other browser's application grant and the third browser's settings grant.
      expect(event?.details).to.deep.equal({ sessionsEnded: 2, grantsRevoked: 2 });
    });
  });

  describe('admin console', function () {
    let admin: AdminSession;
    before(async function () {
      admin = await signInAsAdmin(suite.app, suite.clock);
    });
    const open = (p: string) => admin.browser.follow(url(p));

    it('a 2FA reset ends every session of the account and revokes every grant with its tokens', async function () {
      const { account, secret } = await withApp('reset-me');
      const { browser: rpBrowser, tokens } = await signInAtRp('reset-me', secret);
      const { browser: settings } = await signInToSettings('reset-me', secret);
      const form = await open(`/admin/accounts/${account.id}/reset-2fa`);
      expect(form.html).to.contain('All of their sessions end, and every access token and refresh token they were given is revoked.');

      const done = await admin.browser.submit(form, '/reset-2fa', { reason: 'Phone stolen, ticket 5150', confirm: 'yes' });
      expect(done.html).to.contain('the account\'s sessions were ended and its tokens revoked');
      expect(await silentSignIn(rpBrowser)).to.equal('login_required');
      expect(await settingsStatus(settings)).to.equal(302);
      expect(await refresh(tokens.refresh_token!)).to.equal('invalid_grant');
      expect(await active(tokens.access_token)).to.equal(false);
      const [event] = await events(account.id, 'mfa.reset');
      expect(event?.details).to.deep.equal({ reason: 'Phone stolen, ticket 5150', sessionsEnded: 2, grantsRevoked: 2 });
      expect(await settingsStatus(admin.browser), 'the administrator\'s own session is untouched').to.equal(200);
    });

    it('disabling ends every session and revokes every grant, so enabling the account again brings none back', async function () {
      const account = await createUser(suite.app, { username: 'pause-me', password: PASSWORD });
      const { browser: rpBrowser, tokens } = await signInAtRp('pause-me');
      const { browser: settings } = await signInToSettings('pause-me');
      const confirm = await open(`/admin/accounts/${account.id}/disable`);
      expect(confirm.html).to.contain('All of their sessions end at once');
      const done = await admin.browser.submit(confirm, '/disable', {});
      expect(done.html).to.contain('The account is disabled. Its sessions were ended and its tokens revoked.');
      expect((await events(account.id, 'account.disabled'))[0]?.details).to.deep.equal({ sessionsEnded: 2, grantsRevoked: 2 });

      const enabled = await admin.browser.submit(await open(`/admin/accounts/${account.id}/enable`), '/enable', {});
      expect(enabled.html).to.contain('The account is enabled again.');
      expect(await silentSignIn(rpBrowser)).to.equal('login_required');
      expect(await settingsStatus(settings)).to.equal(302);
      expect(await refresh(tokens.refresh_token!)).to.equal('invalid_grant');
      expect(await active(tokens.access_token)).to.equal(false);
    });
  });

  describe('twofold users disable', function () {
    const { cli, serversRedis } = useAppCli(() => suite.app);

    it('with the server\'s Redis settings, ends the sessions and revokes the grants, so enabling again brings none back', async function () {
      const account = await createUser(suite.app, { username: 'cli-pause', password: PASSWORD });
      const { browser, tokens } = await signInAtRp('cli-pause');
      const run = await cli(['users', 'disable', 'cli-pause'], serversRedis());
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.equal('cli-pause is disabled.\n1 session ended, 1 grant revoked with their tokens.\n');
      await suite.app.queries.accounts.setDisabled('cli-pause', false);
      expect((await suite.app.queries.accounts.findById(account.id))?.disabled).to.equal(false);
      expect(await silentSignIn(browser)).to.equal('login_required');
      expect(await refresh(tokens.refresh_token!)).to.equal('invalid_grant');
    });

    it('without Redis settings says the sessions are kept; with Redis unreachable it fails, and a second run ends them', async function () {
      await createUser(suite.app, { username: 'cli-nored', password: PASSWORD });
      const { browser, tokens } = await signInAtRp('cli-nored');
      const plain = await cli(['users', 'disable', 'cli-nored']);
      expect(plain.code, plain.stderr).to.equal(0);
      expect(plain.stdout).to.equal('cli-nored is disabled.\n');
      expect(plain.stderr).to.contain('are not deleted: REDIS_URL (or REDIS_SENTINELS or REDIS_CLUSTER_NODES) is not set');

      const down = await cli(['users', 'disable', 'cli-nored'], { REDIS_URL: 'redis://127.0.0.1:1', REDIS_PREFIX: suite.app.config.redisPrefix });
      expect(down.code, down.stderr).to.equal(1);
      expect(down.stdout).to.equal('cli-nored is disabled.\n');
      expect(down.stderr).to.contain('cli-nored is disabled, but its sessions could not be ended in Redis');
      expect(down.stderr).not.to.match(STACK_LINE);

      // The sessions were kept all along: re-enabled now, they would work again.
      expect(await suite.app.storage.shortLived.findModel('RefreshToken', tokens.refresh_token!)).not.to.equal(undefined);
      const again = await cli(['users', 'disable', 'cli-nored'], serversRedis());
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stdout).to.equal('cli-nored is disabled.\n1 session ended, 1 grant revoked with their tokens.\n');
      await suite.app.queries.accounts.setDisabled('cli-nored', false);
      expect(await silentSignIn(browser)).to.equal('login_required');
      expect(await refresh(tokens.refresh_token!)).to.equal('invalid_grant');
    });
  });
});
