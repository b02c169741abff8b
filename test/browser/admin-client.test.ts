// An administrator registers a client in /admin, and a person signs in through it (the demo application) in Chromium;
// the administrator also issues an initial access token and revokes it.
import { createServer } from 'node:http';
import { expect } from 'chai';
import { createUser } from '../helpers/app.js';
import { connectAuthenticator } from '../helpers/phone.js';
import { createTotpSecret, totpCodeAt } from '../../src/security/totp.js';
import { arrive, claimShown, logIn, newPage, signInAtDemo, startDemoRp, useChromiumSuite } from '../helpers/chromium.js';

const PASSWORD = 'admin console browser password';

describe('browser: registering a client in the admin console', function () {
  this.timeout(120_000);
  // The demo application is started by the test, once the client is registered.
  const suite = useChromiumSuite({ demo: false });

  it('registers the demo application under Clients; a person then signs in through it, after consent', async function () {
    const admin = await createUser(suite.app, { username: 'root', password: PASSWORD, role: 'sysadmin', name: 'Ria Root' });
    const secret = createTotpSecret();
    await connectAuthenticator(suite.app, admin.id, secret);
    await createUser(suite.app, { username: 'reader', password: PASSWORD, name: 'Rob Reader', email: 'rob@example.com' });
    // The application's address is known before it is registered, as it would be in real life.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const rpUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

    const page = await newPage(suite.browser);
    await page.goto(`${suite.app.issuer}/admin`);
    await logIn(page, 'root', PASSWORD);
    await arrive(page, 'Two-factor authentication');
    suite.clock.nextStep();
    await page.getByLabel('Code', { exact: true }).fill(totpCodeAt(secret, suite.clock.now));
    await page.getByRole('button', { name: 'Next' }).click();
    await arrive(page, 'Administration');

    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Clients' }).click();
    await arrive(page, 'Clients');
    await page.getByRole('link', { name: 'Register a client' }).click();
    await arrive(page, 'Register a client');
    await page.getByLabel('Name', { exact: true }).fill('Demo app');
    await page.getByLabel('Redirect URIs', { exact: true }).fill(`${rpUrl}/callback`);
    await page.getByLabel('Post-logout redirect URIs', { exact: true }).fill(`${rpUrl}/`);
    expect(await page.getByLabel(/Confidential/).isChecked()).to.equal(true);
    expect(await page.getByLabel(/First-party/).isChecked()).to.equal(false);
    await page.getByRole('button', { name: 'Register' }).click();

    await arrive(page, 'Client registered');
    await page.getByText('Demo app was registered.').waitFor();
    const clientId = (await page.locator('#client-id').textContent())?.trim() ?? '';
    const clientSecret = (await page.locator('#client-secret').textContent())?.trim() ?? '';
    expect(clientId).to.have.length.greaterThan(10);
    expect(clientSecret).to.have.length.greaterThan(20);
    await page.getByRole('link', { name: 'Back to the clients' }).click();
    await arrive(page, 'Clients');
    await page.getByRole('cell', { name: clientId }).waitFor();

    // An initial access token, issued and then revoked before anyone used it.
    await page.getByRole('link', { name: 'Issue an initial access token' }).click();
    await arrive(page, 'Initial access tokens');
    await page.getByLabel('24 hours').check();
    await page.getByRole('button', { name: 'Issue a token' }).click();
    await page.getByText('An initial access token was issued.').waitFor();
    await arrive(page, 'Initial access tokens');
    const token = (await page.locator('#initial-access-token').textContent())?.trim() ?? '';
    expect(token).to.have.length.greaterThan(30);
    const revoke = page.getByRole('link', { name: /^Revoke token / });
    expect(await revoke.count()).to.equal(1);
    await revoke.click();
    await arrive(page, /^Revoke token .+\?$/);
    await page.getByRole('button', { name: 'Revoke token' }).click();
    await arrive(page, 'Initial access tokens');
    await page.getByText('The token was revoked. It can no longer register a client.').waitFor();
    await page.getByRole('cell', { name: 'Revoked' }).waitFor();
    expect(await page.content(), 'the list never shows a token').not.to.contain(token);
    await page.context().close();

    // A person, in another browser, signs in to the application: a third-party client, so Twofold asks for consent.
    suite.demo = await startDemoRp(suite.app, { clientId, clientSecret }, server);
    const person = await newPage(suite.browser);
    await signInAtDemo(person, suite.demo);
    await logIn(person, 'reader', PASSWORD);
    await arrive(person, 'Allow Demo app access?');
    await person.getByRole('button', { name: 'Allow' }).click();
    expect(await claimShown(person, 'aud')).to.equal(clientId);
    expect(await claimShown(person, 'preferred_username')).to.equal('reader');
    expect(await claimShown(person, 'acr')).to.equal('urn:twofold:loa:1');
    await person.context().close();
  });
});
