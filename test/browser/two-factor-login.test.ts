// The guide's sections 3 and 4 in Chromium: logging in with a code, and Problems with the code (a code by email).
import { expect } from 'chai';
import { createUser } from '../helpers/app.js';
import { connectAuthenticator } from '../helpers/phone.js';
import { createTotpSecret, totpCodeAt } from '../../src/security/totp.js';
import { arrive, claimShown, logIn, newPage, screenshot, signInAtDemo, useChromiumSuite } from '../helpers/chromium.js';

const PASSWORD = 'code login browser password';

describe('browser: logging in with two-factor authentication (guide, sections 3 and 4)', function () {
  this.timeout(120_000);
  const suite = useChromiumSuite({ smtp: true, env: { MAIL_FROM: 'Twofold <no-reply@twofold.test>' } });
  beforeEach(function () {
    suite.clock.now = Date.now();
  });

  async function sysadminWithApp(username: string) {
    const account = await createUser(suite.app, { username, password: PASSWORD, role: 'sysadmin', name: `Sam ${username}`, email: `${username}@example.com` });
    const secret = createTotpSecret();
    await connectAuthenticator(suite.app, account.id, secret);
    await suite.app.queries.accounts.markEmailVerified(account.id, account.email);
    return { account, secret };
  }

  it('asks for the current code after the password; a wrong code is refused, the current one signs in', async function () {
    const { secret } = await sysadminWithApp('coder');
    const page = await newPage(suite.browser);
    await signInAtDemo(page, suite.demo);
    await logIn(page, 'coder', PASSWORD);

    await arrive(page, 'Two-factor authentication');
    await page.getByText('Enter the current code from your authenticator app. The code changes every 30 seconds.').waitFor();
    await screenshot(page, 'login-code');
    suite.clock.nextStep();
    const code = totpCodeAt(secret, suite.clock.now);
    await page.getByLabel('Code', { exact: true }).fill(code === '123456' ? '654321' : '123456');
    await page.getByRole('button', { name: 'Next' }).click();
    await arrive(page, 'Two-factor authentication');
    expect(await page.getByRole('alert').textContent()).to.contain('That code is not right.');
    expect(await page.getByRole('alert').textContent()).to.contain('4 attempts left before you must log in again.');

    // Spaces, as some apps show the code ("123 456"), are fine.
    await page.getByLabel('Code', { exact: true }).fill(`${code.slice(0, 3)} ${code.slice(3)}`);
    await page.getByRole('button', { name: 'Next' }).click();
    expect(await claimShown(page, 'acr')).to.equal('urn:twofold:loa:3');
    expect(await claimShown(page, 'amr')).to.equal('pwd, otp, mfa');
    expect(await claimShown(page, 'preferred_username')).to.equal('coder');
    await page.context().close();
  });

  it('sends a one-time code by email on Problems with the code; typing the code from the email signs in', async function () {
    await sysadminWithApp('mailer');
    const page = await newPage(suite.browser);
    await signInAtDemo(page, suite.demo);
    await logIn(page, 'mailer', PASSWORD);
    await arrive(page, 'Two-factor authentication');
    await page.getByRole('button', { name: 'Problems with the code' }).click();

    await arrive(page, 'Code sent by email');
    await page.getByText('We sent a one-time code to the email address in your profile. Enter it below. The code is valid for 5 minutes.').waitFor();
    const mail = await suite.smtp.waitFor((m) => m.to.includes('mailer@example.com') && /code/i.test(m.subject), 20_000);
    const code = /\b(\d{6})\b/.exec(mail.text)?.[1];
    expect(code, mail.text).to.match(/^\d{6}$/);
    expect(await page.content(), 'the code never appears on the page').not.to.contain(code);
    await screenshot(page, 'email-code');

    await page.getByLabel('Code', { exact: true }).fill(code!);
    await page.getByRole('button', { name: 'Next' }).click();
    expect(await claimShown(page, 'acr')).to.equal('urn:twofold:loa:2');
    expect(await claimShown(page, 'amr')).to.equal('pwd, email');
    await suite.smtp.waitFor((m) => m.to.includes('mailer@example.com') && /back-up code was used/i.test(m.subject), 20_000);
    await page.context().close();
  });
});
