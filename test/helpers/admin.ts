// Signing in to /admin in flow tests: a sysadmin with an authenticator app, through the real login pages.
import { createTotpSecret } from '../../src/security/totp.js';
import type { Account } from '../../src/storage/queries.js';
import { createUser, type TestApp } from './app.js';
import { Browser, type Page } from './browser.js';
import { codeFor, connectAuthenticator, type TestClock } from './phone.js';

export interface AdminSession {
  browser: Browser;
  account: Account;
  secret: string;
  /** The /admin page the browser landed on. */
  home: Page;
}

/** The password of every sysadmin signInAsAdmin creates. */
export const ADMIN_PASSWORD = 'administrator password';

/** Creates a sysadmin with an app and signs in to /admin (password, then a code); the clock moves to a fresh step. */
export async function signInAsAdmin(app: TestApp, clock: TestClock, username = `admin-${Math.random().toString(36).slice(2, 8)}`): Promise<AdminSession> {
  const password = ADMIN_PASSWORD;
  const account = await createUser(app, { username, password, role: 'sysadmin', name: `Admin ${username}` });
  const secret = createTotpSecret();
  await connectAuthenticator(app, account.id, secret);
  const browser = new Browser();
  const login = await browser.follow(`${app.issuer}/admin`);
  if (!login.html.includes('<label for="password">')) throw new Error(`expected the login page, got ${login.url}:\n${login.html.slice(0, 800)}`);
  const codePage = await browser.submit(login, '/login', { username, password });
  clock.nextStep();
  const home = await browser.submit(codePage, '/totp', { code: codeFor(secret, clock) });
  if (!home.url.endsWith('/admin')) throw new Error(`expected /admin, got ${home.url} (${home.status}):\n${home.html.slice(0, 800)}`);
  return { browser, account, secret, home };
}
