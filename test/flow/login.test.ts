// The password step: wrong password and unknown user read the same, attempt limits, disabled accounts, CSRF.
import { expect } from 'chai';
import { Browser, hiddenInput } from '../helpers/browser.js';
import { createUser } from '../helpers/app.js';
import { isCallback, openLogin, startAuthorization, submitPassword } from '../helpers/relying-party.js';
import { useFlowSuite } from '../helpers/flow-suite.js';
import { listOutbox } from '../../src/mail/outbox.js';
import { within } from '../helpers/within.js';

describe('login page', function () {
  const suite = useFlowSuite({ clock: false });

  before(async function () {
    await createUser(suite.app, { username: 'bob', password: 'a long enough password' });
    await createUser(suite.app, { username: 'locky', password: 'a long enough password' });
    const disabled = await createUser(suite.app, { username: 'gone', password: 'a long enough password' });
    await suite.app.queries.accounts.setDisabled(disabled.username, true);
  });

  async function loginPage(browser = new Browser()) {
    const page = await openLogin(browser, suite.rp, await startAuthorization(suite.rp));
    return { browser, page };
  }

  it('shows Username, Password and a Log in button, with a CSRF token and no caching', async function () {
    const { page } = await loginPage();
    expect(page.status).to.equal(200);
    expect(page.html).to.match(/<label for="username">Username<\/label>/);
    expect(page.html).to.match(/<label for="password">Password<\/label>/);
    expect(page.html).to.match(/<input id="password" type="password"[^>]*autocomplete="current-password"/);
    expect(page.html).to.match(/<button class="primary" type="submit">Log in<\/button>/);
    expect(hiddenInput(page.html, '_csrf')).to.be.a('string').with.length.greaterThan(10);
    expect(page.headers.get('cache-control')).to.equal('no-store');
  });

  it('answers a wrong password and an unknown user with the same status and message', async function () {
    const wrong = await loginPage();
    const wrongResult = await submitPassword(wrong.browser, suite.rp, wrong.page, 'bob', 'not the password');
    const unknown = await loginPage();
    const unknownResult = await submitPassword(unknown.browser, suite.rp, unknown.page, 'nobody-here', 'not the password');
    expect(wrongResult.status).to.equal(401);
    expect(unknownResult.status).to.equal(401);
    const message = (html: string) => /<div class="alert" role="alert">([^<]*)<\/div>/.exec(html)?.[1];
    expect(message(wrongResult.html)).to.equal('The username or password is incorrect.');
    expect(message(unknownResult.html)).to.equal(message(wrongResult.html));
  });

  it('refuses a disabled account with the same message as a wrong password', async function () {
    const { browser, page } = await loginPage();
    const result = await submitPassword(browser, suite.rp, page, 'gone', 'a long enough password');
    expect(result.status).to.equal(401);
    expect(result.html).to.contain('The username or password is incorrect.');
    expect(result.stoppedAt).to.equal(undefined);
  });

  it('accepts the username in any case', async function () {
    const { browser, page } = await loginPage();
    const result = await submitPassword(browser, suite.rp, page, 'BOB', 'a long enough password');
    expect(result.stoppedAt).to.be.a('string').and.satisfy(isCallback(suite.rp));
  });

  it('asks for both fields when one is empty', async function () {
    const { browser, page } = await loginPage();
    const result = await submitPassword(browser, suite.rp, page, 'bob', '');
    expect(result.status).to.equal(400);
    expect(result.html).to.contain('Enter your username and your password.');
    expect(result.html).to.contain('value="bob"');
  });

  it('refuses a form without a valid CSRF token', async function () {
    const { browser, page } = await loginPage();
    const action = new URL(/action="([^"]*\/login)"/.exec(page.html)![1]!, page.url).href;
    const missing = await browser.request(action, { form: { username: 'bob', password: 'a long enough password' } });
    expect(missing.status).to.equal(403);
    expect(await missing.text()).to.contain('Your form has expired');
    const forged = await browser.request(action, { form: { _csrf: 'forged-token', username: 'bob', password: 'a long enough password' } });
    expect(forged.status).to.equal(403);
    // Another browser's valid token does not work with this browser's cookie either.
    const other = await loginPage();
    const crossed = await browser.request(action, { form: { _csrf: hiddenInput(other.page.html, '_csrf')!, username: 'bob', password: 'a long enough password' } });
    expect(crossed.status).to.equal(403);
  });

  it('locks an account after 10 failures, refuses even the right password, and says how long to wait', async function () {
    for (let i = 0; i < 9; i++) {
      const { browser, page } = await loginPage();
      const result = await submitPassword(browser, suite.rp, page, 'locky', `wrong ${i}`);
      expect(result.status, `failure ${i + 1}`).to.equal(401);
    }
    const tenth = await loginPage();
    const locked = await submitPassword(tenth.browser, suite.rp, tenth.page, 'locky', 'wrong again');
    expect(locked.status).to.equal(429);
    expect(locked.html).to.contain('Too many failed attempts. Try again in 15 minutes.');
    expect(Number(locked.headers.get('retry-after'))).to.be.within(800, 900);

    const right = await loginPage();
    const refused = await submitPassword(right.browser, suite.rp, right.page, 'locky', 'a long enough password');
    expect(refused.status).to.equal(429);
    expect(refused.stoppedAt).to.equal(undefined);

    // The lock is per username: another account still signs in from the same address.
    const bob = await loginPage();
    const ok = await submitPassword(bob.browser, suite.rp, bob.page, 'bob', 'a long enough password');
    expect(ok.stoppedAt).to.be.a('string');

    // The owner is told once, by the failure that started the lock, not by the attempts refused during it (no
    // SMTP_URL here, so the development outbox holds the mail).
    // Sent after the answer (so that timing tells nothing): wait for it.
    const noticesFor = async (to: string) => (await listOutbox(suite.app.config.dataDir)).filter((m) => m.to === to);
    expect(await within(2_500, async () => (await noticesFor('locky@example.com')).length > 0)).to.equal(true);
    const notices = await noticesFor('locky@example.com');
    expect(notices).to.have.length(1);
    expect(notices[0]!.subject).to.equal('Your Twofold account is locked after wrong passwords');
    expect(notices[0]!.text).to.contain('Logging in with your username is locked for 15 minutes.');
  });

  it('tells the owner when the right password follows 3 or more wrong ones, and not after fewer', async function () {
    await createUser(suite.app, { username: 'guessed', password: 'a long enough password' });
    await createUser(suite.app, { username: 'typo', password: 'a long enough password' });
    const attempt = async (username: string, password: string) => {
      const { browser, page } = await loginPage();
      return submitPassword(browser, suite.rp, page, username, password);
    };
    for (const [username, wrong] of [['guessed', 3], ['typo', 2]] as const) {
      for (let i = 0; i < wrong; i++) expect((await attempt(username, `wrong ${i}`)).status).to.equal(401);
      expect((await attempt(username, 'a long enough password')).stoppedAt).to.be.a('string');
    }
    const noticesFor = async (to: string) => (await listOutbox(suite.app.config.dataDir)).filter((m) => m.to === to);
    expect(await within(2_500, async () => (await noticesFor('guessed@example.com')).length > 0)).to.equal(true);
    const [notice] = await noticesFor('guessed@example.com');
    expect(notice!.subject).to.equal('Your Twofold password was entered after wrong attempts');
    expect(notice!.text).to.contain('after 3 wrong attempts in a row').and.contain('IP address: 127.0.0.1');
    // The count starts again after a success: one more right password tells nobody.
    expect((await attempt('guessed', 'a long enough password')).stoppedAt).to.be.a('string');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await noticesFor('guessed@example.com')).to.have.length(1);
    expect(await noticesFor('typo@example.com')).to.have.length(0);
  });

  it('locks a username that does not exist exactly like one that does', async function () {
    let last;
    for (let i = 0; i < 10; i++) {
      const { browser, page } = await loginPage();
      last = await submitPassword(browser, suite.rp, page, 'ghost-user', `wrong ${i}`);
    }
    expect(last!.status).to.equal(429);
    expect(last!.html).to.contain('Try again in 15 minutes.');
    // Nobody to tell, and nothing that would tell the guesser otherwise: the same page as for a real account.
    expect((await listOutbox(suite.app.config.dataDir)).filter((m) => m.to.includes('ghost'))).to.have.length(0);
  });

  it('shows an expired-page message for an unknown interaction instead of an error trace', async function () {
    const response = await new Browser().request(`${suite.app.issuer}/interaction/does-not-exist`);
    expect(response.status).to.equal(400);
    const html = await response.text();
    expect(html).to.contain('This sign-in page has expired');
    expect(html).not.to.match(/at .*\.(ts|js):\d+/);
  });

  // Last in this file: it blocks 127.0.0.1 for the rest of this app's life.
  it('blocks an address after 50 failures across many usernames (credential stuffing)', async function () {
    this.timeout(60_000);
    let result;
    for (let i = 0; i < 50; i++) {
      const { browser, page } = await loginPage();
      result = await submitPassword(browser, suite.rp, page, `stuffed-${i}`, 'guess');
    }
    expect(result!.status).to.equal(429);
    const { browser, page } = await loginPage();
    const bob = await submitPassword(browser, suite.rp, page, 'bob', 'a long enough password');
    expect(bob.status).to.equal(429);
    expect(bob.html).to.contain('Too many failed attempts.');
  });
});
