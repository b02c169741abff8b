// The guide's overview in Chromium: a sysadmin's first logins, postponing setup 5 times, then setup is mandatory.
import { expect } from 'chai';
import { createUser } from '../helpers/app.js';
import { arrive, claimShown, completeSetupWizard, logIn, newPage, signInAtDemo, useChromiumSuite } from '../helpers/chromium.js';

const PASSWORD = 'first login browser password';

describe('browser: a sysadmin’s first logins (guide, section 1)', function () {
  this.timeout(120_000);
  const suite = useChromiumSuite();

  it('postpones setup 5 times with the count going down, each a password-only login; then setup is mandatory', async function () {
    await createUser(suite.app, { username: 'newadmin', password: PASSWORD, role: 'sysadmin', name: 'Nora New' });
    for (let left = 5; left >= 1; left--) {
      // Each login on another day: a fresh browser profile, no session left over.
      const page = await newPage(suite.browser);
      await signInAtDemo(page, suite.demo);
      await logIn(page, 'newadmin', PASSWORD);
      await arrive(page, 'Step 1 of 4: Install an authenticator app');
      const times = left === 1 ? 'time' : 'times';
      await page.getByText(`You can postpone the setup ${left} more ${times}; after that it is required to log in.`).waitFor();
      await page.getByRole('button', { name: `Postpone (${left} ${times} left)` }).click();
      expect(await claimShown(page, 'acr'), `postponement ${6 - left}`).to.equal('urn:twofold:loa:1');
      expect(await claimShown(page, 'amr')).to.equal('pwd');
      await page.context().close();
    }

    const page = await newPage(suite.browser);
    await signInAtDemo(page, suite.demo);
    await logIn(page, 'newadmin', PASSWORD);
    await arrive(page, 'Step 1 of 4: Install an authenticator app');
    await page.getByText('You have postponed the setup 5 times. Set up two-factor authentication now to continue.').waitFor();
    expect(await page.getByRole('button', { name: /Postpone/ }).count(), 'no Postpone button').to.equal(0);
    expect(await page.getByRole('button').allTextContents()).to.deep.equal(['Next']);

    // The only way on is the wizard; at its end the application gets a login with the app.
    await completeSetupWizard(page, suite.clock);
    expect(await claimShown(page, 'acr')).to.equal('urn:twofold:loa:3');
    await page.context().close();
  });
});
