// The guide's section 2 in Chromium: the four-step setup wizard, at phone and desktop width, and by keyboard alone.
import { expect } from 'chai';
import { createUser } from '../helpers/app.js';
import { totpCodeAt } from '../../src/security/totp.js';
import {
  arrive, claimShown, DESKTOP, focusedElement, logIn, newPage, overflowsHorizontally, PHONE, readQrCode, screenshot, signInAtDemo, useChromiumSuite,
  type Page,
} from '../helpers/chromium.js';

const PASSWORD = 'wizard browser password';

describe('browser: the setup wizard (guide, section 2)', function () {
  this.timeout(120_000);
  const suite = useChromiumSuite();
  beforeEach(function () {
    suite.clock.now = Date.now();
  });

  const wrongCode = (right: string) => (right === '123456' ? '654321' : '123456');
  async function fitsWidth(page: Page, where: string) {
    expect(await overflowsHorizontally(page), `${where} scrolls sideways at ${page.viewportSize()?.width} px`).to.equal(false);
  }

  for (const viewport of [DESKTOP, PHONE]) {
    it(`runs the four steps at ${viewport.width} px: QR code read from the page, a wrong then a right code, confirm, back-up email`, async function () {
      const username = `wizard-${viewport.width}`;
      await createUser(suite.app, { username, password: PASSWORD, role: 'sysadmin', name: 'Ada Wizard', email: `${username}@example.com` });
      const desktop = viewport.width === DESKTOP.width;
      const page = await newPage(suite.browser, viewport);
      await signInAtDemo(page, suite.demo);
      await logIn(page, username, PASSWORD);

      // Step 1: the apps to install, Next (and Postpone, this being a first login).
      await arrive(page, 'Step 1 of 4: Install an authenticator app');
      for (const name of ['Microsoft Authenticator', 'Google Authenticator', 'LastPass Authenticator', 'Duo Mobile', 'Authy']) {
        await page.getByRole('listitem').filter({ hasText: name }).waitFor();
      }
      expect(await page.getByRole('button', { name: 'Postpone (5 times left)' }).isVisible()).to.equal(true);
      await fitsWidth(page, 'step 1');
      if (desktop) await screenshot(page, 'setup-step-1-install');
      await page.getByRole('button', { name: 'Next' }).click();

      // Step 2: the QR code is scanned from the screen, as a phone would; the key under it is the same secret.
      await arrive(page, 'Step 2 of 4: Connect your authenticator app');
      const qr = await readQrCode(page.getByRole('img', { name: /QR code/ }));
      expect(qr.cssWidth, 'QR code size in css px').to.be.at.least(200);
      expect(qr.uri).to.contain(`Twofold:${username}`);
      expect(qr.uri).to.match(/algorithm=SHA1&digits=6&period=30$/);
      await fitsWidth(page, 'step 2');
      if (desktop) await screenshot(page, 'setup-step-2-connect');
      await page.getByText('If you cannot scan the QR code').click();
      expect(await page.getByLabel('Key to copy').inputValue()).to.equal(qr.secret);
      await fitsWidth(page, 'step 2 with the key shown');

      await page.getByLabel('Code', { exact: true }).fill(wrongCode(totpCodeAt(qr.secret, suite.clock.now)));
      await page.getByRole('button', { name: 'Next' }).click();
      await arrive(page, 'Step 2 of 4: Connect your authenticator app');
      expect(await page.getByRole('alert').textContent()).to.contain('That code is not right.');
      // The same QR code is shown again, still readable.
      expect((await readQrCode(page.getByRole('img', { name: /QR code/ }))).secret).to.equal(qr.secret);
      await fitsWidth(page, 'step 2 after a wrong code');

      suite.clock.nextStep();
      await page.getByLabel('Code', { exact: true }).fill(totpCodeAt(qr.secret, suite.clock.now));
      await page.getByRole('button', { name: 'Next' }).click();

      // Step 3: connected.
      await arrive(page, 'Step 3 of 4: Confirm setup');
      expect(await page.getByRole('status').textContent()).to.equal('Two-factor authentication has been connected successfully.');
      expect(await page.content()).not.to.contain(qr.secret);
      await fitsWidth(page, 'step 3');
      if (desktop) await screenshot(page, 'setup-step-3-confirm');
      await page.getByRole('button', { name: 'Next' }).click();

      // Step 4: Edit profile, the back-up email, Confirm.
      await arrive(page, 'Step 4 of 4: Verify your back-up email');
      await page.getByRole('heading', { name: 'Edit profile' }).waitFor();
      expect(await page.getByLabel('Email', { exact: true }).inputValue()).to.equal(`${username}@example.com`);
      await fitsWidth(page, 'step 4');
      if (desktop) await screenshot(page, 'setup-step-4-email');
      await page.getByRole('button', { name: 'Confirm' }).click();

      // Back at the application, signed in with the app.
      expect(await claimShown(page, 'acr')).to.equal('urn:twofold:loa:3');
      expect(await claimShown(page, 'amr')).to.equal('pwd, otp, mfa');
      expect(await claimShown(page, 'email')).to.equal(`${username}@example.com`);
      await page.context().close();
    });
  }

  it('can be done with the keyboard alone: login, the four steps, then a login with a code (Tab, Enter, typing)', async function () {
    await createUser(suite.app, { username: 'keyboard', password: PASSWORD, role: 'sysadmin', name: 'Kim Keys', email: 'kim@example.com' });
    const page = await newPage(suite.browser, DESKTOP);
    const focused = () => focusedElement(page);
    // Tabs forward until the focused element matches, as a keyboard user would; fails if it is never reached.
    async function tabTo(what: RegExp) {
      for (let i = 0; i < 25; i++) {
        if (what.test(await focused())) return;
        await page.keyboard.press('Tab');
      }
      throw new Error(`${what} was not reached with Tab (focus is on "${await focused()}")`);
    }
    async function logInByKeyboard() {
      await tabTo(/^button Sign in with Twofold/);
      await page.keyboard.press('Enter');
      await arrive(page, 'Log in');
      expect(await focused(), 'autofocus').to.match(/^input#username/);
      await page.keyboard.type('keyboard');
      await page.keyboard.press('Tab');
      expect(await focused()).to.match(/^input#password/);
      await page.keyboard.type(PASSWORD);
      await page.keyboard.press('Enter');
    }

    await page.goto(suite.demo.url);
    await logInByKeyboard();
    await arrive(page, 'Step 1 of 4: Install an authenticator app');
    expect(await focused()).to.match(/^button Next/);
    await page.keyboard.press('Enter');

    await arrive(page, 'Step 2 of 4: Connect your authenticator app');
    const { secret } = await readQrCode(page.getByRole('img', { name: /QR code/ }));
    expect(await focused()).to.match(/^input#code/);
    await page.keyboard.type(wrongCode(totpCodeAt(secret, suite.clock.now)));
    await page.keyboard.press('Enter');
    await arrive(page, 'Step 2 of 4: Connect your authenticator app');
    expect(await focused(), 'focus back in the code field after a wrong code').to.match(/^input#code/);
    suite.clock.nextStep();
    await page.keyboard.type(totpCodeAt(secret, suite.clock.now));
    await tabTo(/^button Next/);
    await page.keyboard.press('Enter');

    await arrive(page, 'Step 3 of 4: Confirm setup');
    expect(await focused()).to.match(/^button Next/);
    await page.keyboard.press('Enter');

    await arrive(page, 'Step 4 of 4: Verify your back-up email');
    expect(await focused()).to.match(/^input#email/);
    await tabTo(/^button Confirm/);
    await page.keyboard.press('Enter');
    expect(await claimShown(page, 'acr')).to.equal('urn:twofold:loa:3');

    // Sign out (RP-initiated logout, Twofold asks to confirm), then log in again with a code.
    await tabTo(/^button Sign out/);
    await page.keyboard.press('Enter');
    await arrive(page, 'Log out of Twofold?');
    expect(await focused()).to.match(/^button Log out/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'See Twofold sign someone in' }).waitFor();

    await logInByKeyboard();
    await arrive(page, 'Two-factor authentication');
    expect(await focused()).to.match(/^input#code/);
    suite.clock.nextStep();
    await page.keyboard.type(totpCodeAt(secret, suite.clock.now));
    await page.keyboard.press('Enter');
    expect(await claimShown(page, 'acr')).to.equal('urn:twofold:loa:3');
    await page.context().close();
  });
});
