// The guide's section 5 in Chromium: Your settings from the top menu, Disconnect, Log out, setup again; Switch to a
// new phone in place; and a lost phone (a code by email first).
import { expect } from 'chai';
import { createUser } from '../helpers/app.js';
import { connectAuthenticator } from '../helpers/phone.js';
import { createTotpSecret, totpCodeAt } from '../../src/security/totp.js';
import {
  arrive, claimShown, completeSetupWizard, logIn, newPage, readQrCode, screenshot, signInAtDemo, useChromiumSuite,
  type Page,
} from '../helpers/chromium.js';

const PASSWORD = 'new phone browser password';

describe('browser: switching to a new phone (guide, section 5)', function () {
  this.timeout(120_000);
  const suite = useChromiumSuite({ smtp: true, env: { MAIL_FROM: 'Twofold <no-reply@twofold.test>' } });
  // Disconnecting needs a second factor within 10 minutes of the (real-time) login: keep the app's clock near now.
  beforeEach(function () {
    suite.clock.now = Date.now();
  });

  async function sysadminWithApp(username: string, name: string) {
    const account = await createUser(suite.app, { username, password: PASSWORD, role: 'sysadmin', name, email: `${username}@example.com` });
    const secret = createTotpSecret();
    await connectAuthenticator(suite.app, account.id, secret);
    await suite.app.queries.accounts.markEmailVerified(account.id, account.email);
    return { account, secret };
  }

  async function enterAppCode(page: Page, secret: string) {
    await arrive(page, 'Two-factor authentication');
    suite.clock.nextStep();
    await page.getByLabel('Code', { exact: true }).fill(totpCodeAt(secret, suite.clock.now));
    await page.getByRole('button', { name: 'Next' }).click();
  }

  /** Your name in the top menu → Your settings → Two-factor authentication. */
  async function openTwoFactorFromMenu(page: Page, name: string, pictures = false) {
    const menu = page.getByRole('navigation', { name: 'Account' });
    await menu.getByText(name, { exact: true }).click();
    const yourSettings = menu.getByRole('link', { name: 'Your settings' });
    await yourSettings.waitFor();
    if (pictures) {
      const header = (await page.locator('header.topbar').boundingBox())!;
      const list = (await menu.getByRole('list').boundingBox())!;
      await screenshot(page, 'top-menu', { clip: { x: list.x - 24, y: 0, width: header.width - list.x + 24, height: list.y + list.height + 12 } });
    }
    await yourSettings.click();
    await arrive(page, 'Your settings');
    if (pictures) {
      await screenshot(page, 'your-settings');
      // Recent activity, checked by axe like every page, then back.
      await page.getByRole('link', { name: 'Recent activity' }).click();
      await arrive(page, 'Recent activity');
      await page.getByRole('cell', { name: 'Logged in with your password and authenticator app' }).first().waitFor();
      await page.getByRole('main').getByRole('link', { name: 'Your settings' }).click();
      await arrive(page, 'Your settings');
    }
    await page.getByRole('link', { name: 'Two-factor authentication' }).click();
    await arrive(page, 'Two-factor authentication');
    if (pictures) await screenshot(page, 'two-factor-authentication');
  }

  /** Two-factor authentication → Disconnect → Disconnect (confirmed) → Log out from the top menu. */
  async function disconnectAndLogOut(page: Page, name: string) {
    await page.getByRole('link', { name: 'Disconnect' }).click();
    await arrive(page, 'Disconnect your authenticator app?');
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await arrive(page, 'Two-factor authentication is disconnected');
    await page.getByText('Log out, then log in again: you will be taken through the setup steps to connect your new phone.').waitFor();
    const menu = page.getByRole('navigation', { name: 'Account' });
    await menu.getByText(name, { exact: true }).click();
    await menu.getByRole('button', { name: 'Log out' }).click();
    await arrive(page, 'You are logged out');
  }

  it('disconnects the old phone from Your settings (top menu), logs out, logs in and sets up the new phone', async function () {
    const { account, secret: oldSecret } = await sysadminWithApp('mover', 'Mona Mover');
    const page = await newPage(suite.browser);
    // Twofold's own settings: opening them asks for the login first.
    await page.goto(`${suite.app.issuer}/account`);
    await logIn(page, 'mover', PASSWORD);
    await enterAppCode(page, oldSecret);
    await arrive(page, 'Your settings');

    // Edit profile: name and the back-up email.
    await page.getByRole('link', { name: 'Edit profile' }).click();
    await arrive(page, 'Edit profile');
    expect(await page.getByLabel('Email', { exact: true }).inputValue()).to.equal('mover@example.com');
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).to.equal('Mona Mover');
    await screenshot(page, 'edit-profile');

    await openTwoFactorFromMenu(page, 'Mona Mover', true);
    await page.getByText('Connected', { exact: true }).waitFor();
    await disconnectAndLogOut(page, 'Mona Mover');
    expect(await suite.app.queries.totp.find(account.id)).to.equal(undefined);

    // Log in again: straight to the wizard, with no Postpone.
    await signInAtDemo(page, suite.demo);
    await logIn(page, 'mover', PASSWORD);
    await arrive(page, 'Step 1 of 4: Install an authenticator app');
    await page.getByText('Two-factor authentication was disconnected from your account. Connect it again to continue.').waitFor();
    expect(await page.getByRole('button', { name: /Postpone/ }).count()).to.equal(0);
    const newSecret = await completeSetupWizard(page, suite.clock);
    expect(newSecret).not.to.equal(oldSecret);
    expect(await claimShown(page, 'acr')).to.equal('urn:twofold:loa:3');
    await page.context().close();
  });

  it('asks for the password and a code again (Confirm it\'s you) before Disconnect, once the login is over 10 minutes old', async function () {
    const { account, secret } = await sysadminWithApp('later', 'Lee Later');
    const page = await newPage(suite.browser);
    await page.goto(`${suite.app.issuer}/account`);
    await logIn(page, 'later', PASSWORD);
    await enterAppCode(page, secret);
    await arrive(page, 'Your settings');
    suite.clock.now += 11 * 60_000;

    await openTwoFactorFromMenu(page, 'Lee Later');
    await page.getByRole('link', { name: 'Disconnect' }).click();
    await arrive(page, 'Confirm it\'s you');
    await page.getByText('This change affects how you sign in, so it needs your password and a code.').waitFor();
    await screenshot(page, 'confirm-its-you');
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    suite.clock.nextStep();
    await page.getByLabel('Code', { exact: true }).fill(totpCodeAt(secret, suite.clock.now));
    await page.getByRole('button', { name: 'Next' }).click();
    await arrive(page, 'Confirm it\'s you');
    expect(await page.getByRole('alert').textContent()).to.contain('That password is not right.');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Code', { exact: true }).fill(totpCodeAt(secret, suite.clock.now));
    await page.getByRole('button', { name: 'Next' }).click();
    await arrive(page, 'Disconnect your authenticator app?');
    expect(await suite.app.queries.totp.find(account.id), 'nothing is disconnected before the confirmation').not.to.equal(undefined);
    await page.context().close();
  });

  it('switches to a new phone in place: the new QR code, a code from it, then only the new phone signs in', async function () {
    const { secret: oldSecret } = await sysadminWithApp('switcher', 'Sid Switcher');
    const page = await newPage(suite.browser);
    await page.goto(`${suite.app.issuer}/account`);
    await logIn(page, 'switcher', PASSWORD);
    await enterAppCode(page, oldSecret);
    await arrive(page, 'Your settings');
    await openTwoFactorFromMenu(page, 'Sid Switcher');

    await page.getByRole('link', { name: 'Switch to a new phone' }).click();
    await arrive(page, 'Switch to a new phone');
    await page.getByText('Your current app keeps working until the new phone is connected.').waitFor();
    const { secret: newSecret, cssWidth } = await readQrCode(page.getByRole('img', { name: /QR code/ }));
    expect(cssWidth).to.be.at.least(200);
    expect(newSecret).not.to.equal(oldSecret);
    suite.clock.nextStep();
    await page.getByLabel('Code', { exact: true }).fill(totpCodeAt(newSecret, suite.clock.now));
    await page.getByRole('button', { name: 'Next' }).click();
    await arrive(page, 'Two-factor authentication');
    expect(await page.getByRole('status').textContent()).to.equal(
      'Your authenticator app is connected. You were logged out everywhere else, and applications you signed in to will ask you to log in again.',
    );

    // At the next login the old phone's code is refused and the new one's accepted.
    const next = await newPage(suite.browser);
    await signInAtDemo(next, suite.demo);
    await logIn(next, 'switcher', PASSWORD);
    await arrive(next, 'Two-factor authentication');
    suite.clock.nextStep();
    await next.getByLabel('Code', { exact: true }).fill(totpCodeAt(oldSecret, suite.clock.now));
    await next.getByRole('button', { name: 'Next' }).click();
    await arrive(next, 'Two-factor authentication');
    expect(await next.getByRole('alert').textContent()).to.contain('That code is not right.');
    await next.getByLabel('Code', { exact: true }).fill(totpCodeAt(newSecret, suite.clock.now));
    await next.getByRole('button', { name: 'Next' }).click();
    expect(await claimShown(next, 'acr')).to.equal('urn:twofold:loa:3');
    await next.context().close();
    await page.context().close();
  });

  it('recovers from a lost phone: a code by email, then Disconnect, Log out, and setup on the new phone', async function () {
    const { account } = await sysadminWithApp('loser', 'Lou Loser');
    const page = await newPage(suite.browser);
    await signInAtDemo(page, suite.demo);
    await logIn(page, 'loser', PASSWORD);
    await arrive(page, 'Two-factor authentication');
    await page.getByRole('button', { name: 'Problems with the code' }).click();
    await arrive(page, 'Code sent by email');
    const mail = await suite.smtp.waitFor((m) => m.to.includes('loser@example.com') && m.subject === 'Your Twofold back-up code', 20_000);
    await page.getByLabel('Code', { exact: true }).fill(/\b(\d{6})\b/.exec(mail.text)![1]!);
    await page.getByRole('button', { name: 'Next' }).click();
    expect(await claimShown(page, 'amr')).to.equal('pwd, email');

    // The same Twofold session opens the settings: no second login.
    await page.goto(`${suite.app.issuer}/account`);
    await arrive(page, 'Your settings');
    await openTwoFactorFromMenu(page, 'Lou Loser');
    await disconnectAndLogOut(page, 'Lou Loser');
    await suite.smtp.waitFor((m) => m.to.includes('loser@example.com') && /disconnected/.test(m.subject), 20_000);
    const events = await suite.app.queries.auditEvents.list({ accountId: account.id, event: 'mfa.disconnected', limit: 5 });
    expect(events[0]?.details['recovery']).to.equal(true);

    await signInAtDemo(page, suite.demo);
    await logIn(page, 'loser', PASSWORD);
    await completeSetupWizard(page, suite.clock);
    expect(await claimShown(page, 'acr')).to.equal('urn:twofold:loa:3');
    await page.context().close();
  });
});
