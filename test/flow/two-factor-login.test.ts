// Logging in with an authenticator app: the code page, claims, replay, wrong codes, lockout, step-up.
import { expect } from 'chai';
import { Browser } from '../helpers/browser.js';
import { createUser } from '../helpers/app.js';
import { codeFor, connectAuthenticator } from '../helpers/phone.js';
import { exchangeCode, isCallback, openLogin, startAuthorization, startSignIn } from '../helpers/relying-party.js';
import { useFlowSuite } from '../helpers/flow-suite.js';
import { createTotpSecret } from '../../src/security/totp.js';
import { listOutbox } from '../../src/mail/outbox.js';

const PASSWORD = 'sysadmin password 1';

describe('logging in with two-factor authentication', function () {
  const suite = useFlowSuite();

  async function sysadminWithApp(username: string) {
    const account = await createUser(suite.app, { username, password: PASSWORD, role: 'sysadmin' });
    const secret = createTotpSecret();
    await connectAuthenticator(suite.app, account.id, secret);
    return { account, secret };
  }

  const toCodePage = (username: string, params: Record<string, string> = {}, browser?: Browser) => startSignIn(suite.rp, username, PASSWORD, params, browser);

  it('asks for the code after the password, with a numeric one-time-code field, and signs in with pwd otp mfa at loa:3', async function () {
    const { account, secret } = await sysadminWithApp('ada');
    suite.clock.nextStep();
    const { browser, start, page } = await toCodePage('ada');
    expect(page.status).to.equal(200);
    expect(page.headers.get('cache-control')).to.equal('no-store');
    expect(page.html).to.match(/<label for="code">Code<\/label>/);
    const field = /<input[^>]*id="code"[^>]*>/.exec(page.html)?.[0] ?? '';
    for (const attribute of ['name="code"', 'inputmode="numeric"', 'autocomplete="one-time-code"', 'type="text"']) expect(field).to.contain(attribute);
    expect(field).not.to.match(/onpaste|maxlength="6"/);
    expect(page.html).to.contain('>Next</button>');

    const code = codeFor(secret, suite.clock);
    const done = await browser.submit(page, '/totp', { code: ` ${code.slice(0, 3)} ${code.slice(3)} ` }, isCallback(suite.rp));
    expect(done.stoppedAt, done.html.slice(0, 500)).to.be.a('string');
    const claims = (await exchangeCode(suite.rp, done.stoppedAt!, start)).claims()!;
    expect(claims.sub).to.equal(account.id);
    expect(claims.amr).to.deep.equal(['pwd', 'otp', 'mfa']);
    expect(claims.acr).to.equal('urn:twofold:loa:3');

    const events = await suite.app.queries.auditEvents.list({ accountId: account.id, limit: 10 });
    expect(events.map((e) => e.event)).to.include.members(['mfa.totp.accepted', 'login.succeeded']);
  });

  it('gives no session and no code for the password alone', async function () {
    await sysadminWithApp('brian');
    const { browser } = await toCodePage('brian');
    const silent = await openLogin(browser, suite.rp, await startAuthorization(suite.rp, { prompt: 'none' }));
    expect(new URL(silent.stoppedAt!).searchParams.get('error')).to.equal('login_required');
  });

  it('accepts one step of clock skew either side, but not two', async function () {
    const { secret } = await sysadminWithApp('clara');
    for (const [offset, accepted] of [[-1, true], [1, true], [-2, false], [2, false]] as const) {
      suite.clock.nextStep();
      suite.clock.nextStep();
      const { browser, page } = await toCodePage('clara');
      const done = await browser.submit(page, '/totp', { code: codeFor(secret, suite.clock, offset) }, isCallback(suite.rp));
      expect(done.stoppedAt !== undefined, `offset ${offset}`).to.equal(accepted);
    }
  });

  it('refuses a code a second time, and an older code after a newer one', async function () {
    const { secret, account } = await sysadminWithApp('dora');
    suite.clock.nextStep();
    const code = codeFor(secret, suite.clock);
    const first = await toCodePage('dora');
    expect((await first.browser.submit(first.page, '/totp', { code }, isCallback(suite.rp))).stoppedAt).to.be.a('string');
    const again = await toCodePage('dora');
    const replay = await again.browser.submit(again.page, '/totp', { code }, isCallback(suite.rp));
    expect(replay.stoppedAt).to.equal(undefined);
    expect(replay.html).to.contain('That code is not right.');
    const older = await again.browser.submit(replay, '/totp', { code: codeFor(secret, suite.clock, -1) }, isCallback(suite.rp));
    expect(older.stoppedAt).to.equal(undefined);
    const rejected = await suite.app.queries.auditEvents.list({ accountId: account.id, event: 'mfa.totp.rejected', limit: 10 });
    expect(rejected.map((e) => e.details['reason'])).to.deep.equal(['replay', 'replay']);
  });

  it('lets only one of two parallel submissions of the same code through', async function () {
    const { secret } = await sysadminWithApp('ezra');
    suite.clock.nextStep();
    const code = codeFor(secret, suite.clock);
    const [a, b] = await Promise.all([toCodePage('ezra'), toCodePage('ezra')]);
    const results = await Promise.all([a.browser.submit(a.page, '/totp', { code }, isCallback(suite.rp)), b.browser.submit(b.page, '/totp', { code }, isCallback(suite.rp))]);
    expect(results.filter((r) => r.stoppedAt !== undefined)).to.have.length(1);
  });

  it('refuses codes that are not six digits without counting them', async function () {
    await sysadminWithApp('fay');
    const { browser, page } = await toCodePage('fay');
    for (const code of ['12345', '1234567', '12a456', '', '+123456', '１２３４５６']) {
      const result = await browser.submit(page, '/totp', { code }, isCallback(suite.rp));
      expect(result.status, code).to.equal(400);
      expect(result.html).to.contain('Enter the 6 digits');
    }
  });

  it('sends the user back to the password after 5 wrong codes in one login, telling the owner once after 3', async function () {
    await sysadminWithApp('gus');
    // The notice is sent in the background, after the answer: wait for it in the development outbox.
    const noticesToGus = async (atLeast: number) => {
      for (let tries = 0; tries < 50; tries++) {
        const found = (await listOutbox(suite.app.config.dataDir)).filter((m) => m.to === 'gus@example.com' && /wrong two-factor codes/.test(m.subject));
        if (found.length >= atLeast || atLeast === 0) return found;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return [];
    };
    let { browser, page } = await toCodePage('gus');
    for (let i = 1; i <= 4; i++) {
      page = await browser.submit(page, '/totp', { code: '000000' }, isCallback(suite.rp));
      expect(page.html).to.contain(`${5 - i} ${5 - i === 1 ? 'attempt' : 'attempts'} left`);
      if (i === 2) expect(await noticesToGus(0), 'two wrong codes are not worth an email').to.have.length(0);
    }
    const [notice] = await noticesToGus(1);
    expect(notice?.text).to.contain('entered correctly, then 3 wrong two-factor codes in the same login.').and.contain('IP address: ');
    page = await browser.submit(page, '/totp', { code: '000000' }, isCallback(suite.rp));
    expect(page.html).to.contain('Too many wrong codes. Log in again');
    expect(page.html).to.contain('<label for="password">Password</label>');
    expect(await noticesToGus(1), 'one notice for the login, not one per code').to.have.length(1);
  });

  it('locks the second factor after 10 wrong codes across logins, refusing even the right code, and shows the wait', async function () {
    const { secret, account } = await sysadminWithApp('hal');
    for (let login = 0; login < 2; login++) {
      let { browser, page } = await toCodePage('hal');
      for (let i = 0; i < 5 && page.html.includes('name="code"'); i++) page = await browser.submit(page, '/totp', { code: '999999' }, isCallback(suite.rp));
    }
    suite.clock.nextStep();
    const { browser, page } = await toCodePage('hal');
    const locked = await browser.submit(page, '/totp', { code: codeFor(secret, suite.clock) }, isCallback(suite.rp));
    expect(locked.stoppedAt).to.equal(undefined);
    expect(locked.status).to.equal(429);
    expect(locked.html).to.match(/locked; try again in 1[45] minutes/);
    const events = await suite.app.queries.auditEvents.list({ accountId: account.id, event: 'mfa.totp.locked', limit: 5 });
    expect(events).to.have.length(1);
    // The owner is told (no SMTP_URL here, so the development outbox holds the mail).
    const notices = (await listOutbox(suite.app.config.dataDir)).filter((m) => m.to === 'hal@example.com');
    expect(notices.map((m) => m.text).join('\n')).to.match(/locked/i);
  });

  it('runs the whole login again, code included, for prompt=login', async function () {
    const { secret } = await sysadminWithApp('iris');
    suite.clock.nextStep();
    const first = await toCodePage('iris');
    expect((await first.browser.submit(first.page, '/totp', { code: codeFor(secret, suite.clock) }, isCallback(suite.rp))).stoppedAt).to.be.a('string');
    suite.clock.nextStep();
    const again = await toCodePage('iris', { prompt: 'login' }, first.browser);
    expect(again.page.html).to.contain('<label for="code">Code</label>');
    const done = await again.browser.submit(again.page, '/totp', { code: codeFor(secret, suite.clock) }, isCallback(suite.rp));
    expect((await exchangeCode(suite.rp, done.stoppedAt!, again.start)).claims()?.acr).to.equal('urn:twofold:loa:3');
  });

  it('steps a password-only session up to the app code when a client asks for loa:3, without the password again', async function () {
    const user = await createUser(suite.app, { username: 'jon', password: PASSWORD });
    const browser = new Browser();
    const first = await toCodePage('jon', {}, browser);
    expect(first.page.stoppedAt, 'a user without 2FA signs in with the password').to.be.a('string');
    const secret = createTotpSecret();
    await connectAuthenticator(suite.app, user.id, secret);

    suite.clock.nextStep();
    const start = await startAuthorization(suite.rp, { acr_values: 'urn:twofold:loa:3' });
    const page = await openLogin(browser, suite.rp, start);
    expect(page.html).to.contain('<label for="code">Code</label>');
    expect(page.html).not.to.contain('<label for="password">');
    const done = await browser.submit(page, '/totp', { code: codeFor(secret, suite.clock) }, isCallback(suite.rp));
    const claims = (await exchangeCode(suite.rp, done.stoppedAt!, start)).claims()!;
    expect(claims.acr).to.equal('urn:twofold:loa:3');
    expect(claims.sub).to.equal(user.id);
  });

  it('gives no session to a login whose account was disabled between the password and the code', async function () {
    const { account, secret } = await sysadminWithApp('dimitri');
    suite.clock.nextStep();
    const { browser, page } = await toCodePage('dimitri');
    await suite.app.queries.accounts.changeDisabled(account.id, true);

    const refused = await browser.submit(page, '/totp', { code: codeFor(secret, suite.clock) }, isCallback(suite.rp));
    expect(refused.stoppedAt, 'no code reaches the client').to.equal(undefined);
    expect(refused.status).to.equal(400);
    const events = await suite.app.queries.auditEvents.list({ accountId: account.id, limit: 20 });
    expect(events.map((e) => e.event), 'no code accepted, no login recorded').not.to.include.any.members(['mfa.totp.accepted', 'login.succeeded']);
    // Enabling the account again revives nothing: the browser has no session.
    await suite.app.queries.accounts.changeDisabled(account.id, false);
    const silent = await openLogin(browser, suite.rp, await startAuthorization(suite.rp, { prompt: 'none' }));
    expect(new URL(silent.stoppedAt!).searchParams.get('error')).to.equal('login_required');
  });

  it('decides the code on the app connected now when it was replaced or removed between the password and the code', async function () {
    // The password step reads the secret with the account; a code checked against that copy must not outlive it.
    const { account, secret: old } = await sysadminWithApp('elif');
    suite.clock.nextStep();
    const replaced = await toCodePage('elif');
    const current = createTotpSecret();
    await suite.app.queries.totp.connect(account.id, current, 0);
    const refused = await replaced.browser.submit(replaced.page, '/totp', { code: codeFor(old, suite.clock) }, isCallback(suite.rp));
    expect(refused.stoppedAt, 'the replaced app').to.equal(undefined);
    expect(refused.html).to.contain('That code is not right.');
    const signedIn = await replaced.browser.submit(refused, '/totp', { code: codeFor(current, suite.clock) }, isCallback(suite.rp));
    expect(signedIn.stoppedAt, 'the app connected now').to.be.a('string');

    suite.clock.nextStep();
    const removed = await toCodePage('elif');
    await suite.app.queries.totp.disconnect(account.id);
    const gone = await removed.browser.submit(removed.page, '/totp', { code: codeFor(current, suite.clock) }, isCallback(suite.rp));
    expect(gone.stoppedAt, 'no app any more').to.equal(undefined);
    expect(gone.status).to.equal(400);
  });
});
