// Session lifetimes: an idle timeout that use extends (authorization requests, Your settings), within an absolute lifetime.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { Browser } from '../helpers/browser.js';
import { createClient, createUser, startTestApp, type TestApp } from '../helpers/app.js';
import { discoverClient, isCallback, openLogin, signIn, startAuthorization, type RelyingParty } from '../helpers/relying-party.js';

const PASSWORD = 'session lifetime password';
// Seconds-long lifetimes (set after validation, which refuses them) keep these tests to a few seconds each.
const IDLE_SECONDS = 2;

describe('session lifetime', function () {
  this.timeout(30_000);

  /** An app with the given lifetimes, a user and a first-party client. */
  function useApp(lifetimes: { session: number; sessionIdle: number }) {
    const setup = {} as { app: TestApp; rp: RelyingParty };
    before(async function () {
      setup.app = await startTestApp({}, { lifetimes });
      await createUser(setup.app, { username: 'sam', password: PASSWORD });
      setup.rp = await discoverClient(setup.app.issuer, await createClient(setup.app));
    });
    after(async function () {
      await setup.app?.close();
    });
    return setup;
  }

  /**
   * An authorization request with prompt=none: the code, or the error it came back with. It sends the cookies the
   * browser had right after the login (`cookies`), even once the browser would have dropped them: the server must end
   * the session, not the cookie's expiry.
   */
  async function silently(rp: RelyingParty, cookies: string): Promise<{ code: string | null; error: string | null }> {
    const start = await startAuthorization(rp, { prompt: 'none' });
    const response = await fetch(start.url, { headers: { cookie: cookies }, redirect: 'manual' });
    const location = response.headers.get('location');
    expect(location, `${response.status} ${await response.text()}`).to.be.a('string');
    expect(isCallback(rp)(location!)).to.equal(true);
    const params = new URL(location!).searchParams;
    return { code: params.get('code'), error: params.get('error') };
  }

  /** Signs in through the client; returns the browser and its cookies for the provider. */
  async function signedIn(app: TestApp, rp: RelyingParty): Promise<{ browser: Browser; cookies: string }> {
    const browser = new Browser();
    await signIn(browser, rp, 'sam', PASSWORD);
    return { browser, cookies: await browser.jar.getCookieString(app.issuer) };
  }

  describe('idle timeout', function () {
    const setup = useApp({ session: 300, sessionIdle: IDLE_SECONDS });
    const url = (path: string) => `${setup.app.issuer}${path}`;

    it('keeps a session that is used within the idle timeout, past the idle timeout counted from the login', async function () {
      const { cookies } = await signedIn(setup.app, setup.rp);
      await sleep(1_200);
      expect(await silently(setup.rp, cookies)).to.include({ error: null }).and.have.property('code').that.is.a('string');
      await sleep(1_200);
      // 2.4 s after the login, 1.2 s after the last use.
      expect(await silently(setup.rp, cookies)).to.include({ error: null }).and.have.property('code').that.is.a('string');
    });

    it('ends a session left unused for the idle timeout: prompt=none gets login_required, and the login page comes back', async function () {
      const { browser, cookies } = await signedIn(setup.app, setup.rp);
      await sleep(IDLE_SECONDS * 1000 + 500);
      expect(await silently(setup.rp, cookies)).to.deep.equal({ code: null, error: 'login_required' });
      const page = await openLogin(browser, setup.rp, await startAuthorization(setup.rp));
      expect(page.stoppedAt).to.equal(undefined);
      expect(page.html).to.contain('<h1 id="login-title">Log in</h1>');
    });

    it('counts the settings pages as use, extending the session and its cookie, and ends the unused session there too', async function () {
      const browser = new Browser();
      const login = await browser.follow(url('/account'));
      const settings = await browser.submit(login, '/login', { username: 'sam', password: PASSWORD });
      expect(settings.url).to.equal(url('/account'));
      // The cookie's expiry is the session's in whole seconds, so up to 1 s before the store's: use it within 1 s.
      for (const path of ['/account', '/account/profile', '/account/two-factor', '/account']) {
        await sleep(600);
        const page = await browser.request(url(path));
        expect(page.status, path).to.equal(200);
        expect(page.headers.getSetCookie().some((cookie) => /^_session=.*expires=/i.test(cookie)), path).to.equal(true);
      }
      // Only the pages kept it alive: 2.4 s after the login, an application's silent request still finds it.
      const cookies = await browser.jar.getCookieString(setup.app.issuer);
      expect(await silently(setup.rp, cookies)).to.have.property('code').that.is.a('string');

      await sleep(IDLE_SECONDS * 1000 + 500);
      const after = await fetch(url('/account'), { headers: { cookie: cookies, accept: 'text/html' }, redirect: 'manual' });
      expect(after.status).to.equal(302);
      expect(new URL(after.headers.get('location')!).pathname).to.equal('/auth');
    });
  });

  describe('absolute lifetime', function () {
    const setup = useApp({ session: 3, sessionIdle: IDLE_SECONDS });

    it('ends a session at its absolute lifetime from the login, however often it is used', async function () {
      const { cookies } = await signedIn(setup.app, setup.rp);
      // Counted from here, a moment after the login: the end is at most 3 s later (the login time is whole seconds).
      const started = Date.now();
      await sleep(900);
      expect(await silently(setup.rp, cookies)).to.include({ error: null });
      // Used twice more before the end: with the idle timeout alone, the session would last 2 s past the last use.
      for (const at of [1_800, 2_600]) {
        await sleep(started + at - Date.now());
        await silently(setup.rp, cookies);
      }
      await sleep(started + 3_100 - Date.now());
      expect(await silently(setup.rp, cookies)).to.deep.equal({ code: null, error: 'login_required' });
    });
  });
});
