// "Problems with the code": a one-time code by email, read from a real SMTP server.
import { expect } from 'chai';
import type { Page } from '../helpers/browser.js';
import { createUser } from '../helpers/app.js';
import { connectAuthenticator } from '../helpers/phone.js';
import { exchangeCode, isCallback, startSignIn } from '../helpers/relying-party.js';
import type { ReceivedMail } from '../helpers/smtp.js';
import { useFlowSuite } from '../helpers/flow-suite.js';
import { createTotpSecret } from '../../src/security/totp.js';
import { createAttemptLimit, EMAIL_SEND_LIMITS } from '../../src/security/attempt-limits.js';

const PASSWORD = 'sysadmin password 3';

describe('back-up access via email', function () {
  const suite = useFlowSuite({ smtp: true, env: { MAIL_FROM: 'Twofold <no-reply@twofold.test>' } });

  async function sysadmin(username: string, options: { verified?: boolean } = {}) {
    const account = await createUser(suite.app, { username, password: PASSWORD, role: 'sysadmin', email: `${username}@example.com` });
    await connectAuthenticator(suite.app, account.id, createTotpSecret());
    if (options.verified !== false) await suite.app.queries.accounts.markEmailVerified(account.id, account.email);
    return account;
  }

  const toCodePage = (username: string, params: Record<string, string> = {}) => startSignIn(suite.rp, username, PASSWORD, params);

  const codeIn = (mail: ReceivedMail) => /\b(\d{6})\b/.exec(mail.text)?.[1] ?? '';
  const mailTo = (address: string, subject: RegExp) => suite.smtp.waitFor((m) => m.to.includes(address) && subject.test(m.subject), 5000);
  // The per-minute sending limit, reset through the same limit the app uses, so a test can send again at once.
  const allowAnotherSend = (accountId: string) => createAttemptLimit(EMAIL_SEND_LIMITS.accountPerMinute, { redis: suite.app.storage.redis, prefix: suite.app.config.redisPrefix }).reset(accountId);

  it('sends a code to the verified address that signs in once, with amr pwd+email at loa:2, and notifies the user', async function () {
    const account = await sysadmin('mail-ok');
    const { browser, start, page } = await toCodePage('mail-ok');
    expect(page.html).to.contain('>Problems with the code</button>');
    const sent = await browser.submit(page, '/email-code', {});
    expect(sent.html).to.contain('We sent a one-time code to the email address in your profile.');
    expect(sent.html, 'the page names no address').not.to.match(/m\*+@|mail-ok@/);
    const mail = await mailTo('mail-ok@example.com', /code/i);
    const code = codeIn(mail);
    expect(code).to.match(/^\d{6}$/);
    expect(sent.html).not.to.contain(code);

    const done = await browser.submit(sent, '/email-code/verify', { code }, isCallback(suite.rp));
    expect(done.stoppedAt, done.html.slice(0, 800)).to.be.a('string');
    const tokens = await exchangeCode(suite.rp, done.stoppedAt!, start);
    expect(tokens.claims()?.amr).to.deep.equal(['pwd', 'email']);
    expect(tokens.claims()?.acr).to.equal('urn:twofold:loa:2');
    await mailTo('mail-ok@example.com', /back-up code was used|sign/i);
    const events = (await suite.app.queries.auditEvents.list({ accountId: account.id, limit: 10 })).map((e) => e.event);
    expect(events).to.include.members(['mfa.email.sent', 'mfa.email.accepted', 'login.succeeded']);

    // The same code does not work a second time, in a new login.
    const again = await toCodePage('mail-ok');
    await allowAnotherSend(account.id);
    const second = await again.browser.submit(again.page, '/email-code', {});
    const reused = await again.browser.submit(second, '/email-code/verify', { code: code === codeIn(await mailTo('mail-ok@example.com', /code/i)) ? '000000' : code }, isCallback(suite.rp));
    expect(reused.stoppedAt).to.equal(undefined);
  });

  it('refuses a code after 5 minutes', async function () {
    await sysadmin('mail-late');
    const { browser, page } = await toCodePage('mail-late');
    const sent = await browser.submit(page, '/email-code', {});
    const code = codeIn(await mailTo('mail-late@example.com', /code/i));
    suite.clock.now += 5 * 60 * 1000;
    const late = await browser.submit(sent, '/email-code/verify', { code }, isCallback(suite.rp));
    expect(late.stoppedAt).to.equal(undefined);
    expect(late.html).to.contain('This code can no longer be used.');
  });

  it('accepts only the newest code after a resend', async function () {
    const account = await sysadmin('mail-resend');
    const { browser, page } = await toCodePage('mail-resend');
    const first = await browser.submit(page, '/email-code', {});
    const older = codeIn(await mailTo('mail-resend@example.com', /code/i));
    suite.smtp.messages.length = 0;
    await allowAnotherSend(account.id);
    const second = await browser.submit(first, '/email-code', {});
    const newer = codeIn(await mailTo('mail-resend@example.com', /code/i));
    if (older !== newer) {
      const refused = await browser.submit(second, '/email-code/verify', { code: older }, isCallback(suite.rp));
      expect(refused.stoppedAt).to.equal(undefined);
    }
    const accepted = await browser.submit(second, '/email-code/verify', { code: newer }, isCallback(suite.rp));
    expect(accepted.stoppedAt).to.be.a('string');
  });

  it('burns a code after 3 wrong guesses', async function () {
    await sysadmin('mail-guess');
    const { browser, page } = await toCodePage('mail-guess');
    let current = await browser.submit(page, '/email-code', {});
    const code = codeIn(await mailTo('mail-guess@example.com', /code/i));
    const wrong = code === '111111' ? '222222' : '111111';
    current = await browser.submit(current, '/email-code/verify', { code: wrong });
    expect(current.html).to.contain('2 tries left for this code');
    current = await browser.submit(current, '/email-code/verify', { code: wrong });
    current = await browser.submit(current, '/email-code/verify', { code: wrong });
    const burnt = await browser.submit(current, '/email-code/verify', { code }, isCallback(suite.rp));
    expect(burnt.stoppedAt).to.equal(undefined);
    expect(burnt.html).to.contain('This code can no longer be used.');
  });

  it('limits sending to one code a minute, and says how long to wait', async function () {
    await sysadmin('mail-often');
    const { browser, page } = await toCodePage('mail-often');
    const first = await browser.submit(page, '/email-code', {});
    await mailTo('mail-often@example.com', /code/i);
    const second = await browser.submit(first, '/email-code', {});
    expect(second.status).to.equal(429);
    expect(second.html).to.match(/You can request a new code in \d+ seconds?\./);
  });

  it('says the email could not be sent while SMTP is down, leaks no code, and works once SMTP is back', async function () {
    await sysadmin('mail-down');
    const { browser, page } = await toCodePage('mail-down');
    await suite.smtp.stop();
    let failed: Page;
    try {
      failed = await browser.submit(page, '/email-code', {});
    } finally {
      await suite.smtp.start();
    }
    expect(failed.status).to.equal(503);
    expect(failed.html).to.contain('We could not send the email. Try again in a moment.');
    expect(failed.html).not.to.match(/\b\d{6}\b/);
    const retried = await browser.submit(failed, '/email-code', {});
    const code = codeIn(await mailTo('mail-down@example.com', /code/i));
    const done = await browser.submit(retried, '/email-code/verify', { code }, isCallback(suite.rp));
    expect(done.stoppedAt).to.be.a('string');
  });

  it('answers an account without a verified address exactly as one with, sends nothing, and lets no code in', async function () {
    // ASVS 6.3.8: after the password, nothing tells whether an email is on file.
    const none = await sysadmin('mail-none', { verified: false });
    await sysadmin('mail-some');
    const withEmail = await toCodePage('mail-some');
    const withoutEmail = await toCodePage('mail-none');
    const [some, result] = [await withEmail.browser.submit(withEmail.page, '/email-code', {}), await withoutEmail.browser.submit(withoutEmail.page, '/email-code', {})];
    await mailTo('mail-some@example.com', /code/i);
    // The same status and the same page, but for the login's own uid and CSRF token.
    const comparable = (page: Page) => page.html.replaceAll(/\/interaction\/[^/"]+\//g, '/interaction/UID/').replaceAll(/name="_csrf" value="[^"]+"/g, 'name="_csrf" value="TOKEN"');
    expect(result.status).to.equal(some.status);
    expect(comparable(result)).to.equal(comparable(some));
    expect(result.html).to.contain('Without one, ask your administrator to help you sign in.');

    // Every guess fails like a mistyped code and counts the same; the code is burnt after 3.
    let current = result;
    for (const guess of ['000000', '123456', '999999']) current = await withoutEmail.browser.submit(current, '/email-code/verify', { code: guess }, isCallback(suite.rp));
    expect(current.stoppedAt).to.equal(undefined);
    expect(current.html).to.contain('This code can no longer be used.');
    // Sending again within the minute is limited as for anyone.
    const again = await withoutEmail.browser.submit(current, '/email-code', {});
    expect(again.status).to.equal(429);
    expect(again.html).to.match(/You can request a new code in \d+ seconds?\./);

    // No back-up code went to the unverified address (the notice of wrong codes after the password may: it is the
    // owner's to read, and is sent after the answer).
    expect(suite.smtp.messages.some((m) => m.to.includes('mail-none@example.com') && /back-up code/.test(m.subject))).to.equal(false);
    const events = (await suite.app.queries.auditEvents.list({ accountId: none.id, limit: 10 })).map((e) => e.event);
    expect(events).to.include('mfa.email.not_sent');
    expect(events.filter((e) => e === 'mfa.email.rejected')).to.have.length(3);
    expect(events).not.to.include('mfa.email.sent');
  });

  it('does not offer the email code to a client that asks for the app (loa:3), and refuses a forged request', async function () {
    await sysadmin('mail-strict');
    const { browser, page } = await toCodePage('mail-strict', { acr_values: 'urn:twofold:loa:3' });
    expect(page.html).to.contain('<label for="code">Code</label>');
    expect(page.html).not.to.contain('Problems with the code');
    const uid = /\/interaction\/([^/"]+)\/totp/.exec(page.html)![1]!;
    const forged = await browser.request(`${suite.app.issuer}/interaction/${uid}/email-code`, { form: { _csrf: /name="_csrf" value="([^"]+)"/.exec(page.html)![1]! } });
    expect(forged.status).to.equal(403);
  });
});
