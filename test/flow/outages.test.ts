// Storage outages: with Redis or Postgres cut behind a fault proxy the app answers 503 fast and recovers by itself.
import { expect } from 'chai';
import { Browser, type Page } from '../helpers/browser.js';
import { createUser, testRedisUrl } from '../helpers/app.js';
import { testDatabaseUrl } from '../helpers/database.js';
import { startFaultProxy, targetOf, type FaultProxy } from '../helpers/fault-proxy.js';
import { isCallback, openLogin, signIn, startAuthorization, submitPassword } from '../helpers/relying-party.js';
import { useFlowSuite } from '../helpers/flow-suite.js';
import { within } from '../helpers/within.js';

// The stores fail within ~2-5 s (Redis command timeout, pg connect timeout); a hanging request would take 30 s.
const PROMPT_MS = 6_000;

/** Runs `request` and fails the test when it takes longer than PROMPT_MS. */
async function promptly<T>(what: string, request: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await request();
  expect(Date.now() - started, `${what} answered within ${PROMPT_MS} ms`).to.be.below(PROMPT_MS);
  return result;
}

/** Polls until `check` holds, e.g. until a store has reconnected after an outage. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  if (!(await within(timeoutMs, check, 200))) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

interface Readiness {
  status: number;
  body: { status: string; checks: Record<string, string> };
}

/** Asserts the page is the "temporarily unavailable" error page and leaks nothing about the failure. */
function expectUnavailablePage(page: { status: number; html: string; headers: Headers }): void {
  expect(page.status).to.equal(503);
  expect(page.headers.get('content-type')).to.match(/^text\/html/);
  expect(page.html).to.contain('Twofold is temporarily unavailable');
  for (const internal of ['ECONN', 'ioredis', 'Redis', 'Postgres', 'knex', 'Stream isn', 'Connection', ' at ', 'node_modules', '.ts:', 'select ']) {
    expect(page.html, `no "${internal}" on the error page`).not.to.contain(internal);
  }
}

describe('storage outages', function () {
  this.timeout(60_000);
  let postgres: FaultProxy;
  let redis: FaultProxy;

  before(async function () {
    postgres = await startFaultProxy(targetOf(testDatabaseUrl()));
    redis = await startFaultProxy(targetOf(testRedisUrl()));
  });
  // The app reaches both stores through the proxies, started just before.
  const suite = useFlowSuite({ clock: false, env: () => ({ DATABASE_URL: postgres.urlFor(testDatabaseUrl()), REDIS_URL: redis.urlFor(testRedisUrl()) }) });
  before(async function () {
    await createUser(suite.app, { username: 'alice', password: 'correct horse battery' });
  });

  const readiness = async (): Promise<Readiness> => {
    const response = await fetch(`${suite.app.issuer}/readyz`);
    return { status: response.status, body: (await response.json()) as Readiness['body'] };
  };
  const ready = async () => (await readiness()).status === 200;

  afterEach(async function () {
    // Whatever a test did, the next one starts with both stores reachable again.
    postgres?.restore();
    redis?.restore();
    if (suite.app) await eventually('stores ready again', ready);
  });
  after(async function () {
    await postgres?.close();
    await redis?.close();
  });

  it('really sends both stores through the proxies', async function () {
    expect(postgres.connections, 'Postgres connections through the proxy').to.be.above(0);
    expect(redis.connections, 'Redis connections through the proxy').to.be.above(0);
    expect(await readiness()).to.deep.equal({ status: 200, body: { status: 'ready', checks: { postgres: 'ok', redis: 'ok' } } });
  });

  describe('Redis cut', function () {
    it('shows browsers the "temporarily unavailable" page and gives JSON clients temporarily_unavailable', async function () {
      // Before the outage: tokens for userinfo, and an authorization code not yet exchanged.
      const { tokens } = await signIn(new Browser(), suite.rp, 'alice', 'correct horse battery');
      const pending = await startAuthorization(suite.rp);
      const callback = (await signInUntilCallback(new Browser(), pending.url)).stoppedAt;

      redis.cut();

      const authorize = await promptly('authorization endpoint', () => new Browser().follow(pending.url));
      expectUnavailablePage(authorize);

      const token = await promptly('token endpoint', () =>
        fetch(`${suite.app.issuer}/token`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`${suite.client.clientId}:${suite.client.clientSecret}`).toString('base64')}`,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code: new URL(callback).searchParams.get('code')!,
            redirect_uri: suite.client.redirectUri,
            code_verifier: pending.verifier,
          }).toString(),
        }),
      );
      expect(token.status).to.equal(503);
      expect(token.headers.get('retry-after')).to.equal('5');
      expect(await token.json()).to.include({ error: 'temporarily_unavailable' });

      const userinfo = await promptly('userinfo', () => fetch(`${suite.app.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } }));
      expect(userinfo.status).to.equal(503);
      expect(await userinfo.json()).to.include({ error: 'temporarily_unavailable' });

      // An HTTP library's default Accept: */* on an API endpoint gets JSON too, not the page meant for people.
      for (const path of ['/token', '/reg']) {
        const refused = await promptly(path, () => fetch(`${suite.app.issuer}${path}`, {
          method: 'POST',
          headers: { accept: '*/*', 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${suite.client.clientId}:${suite.client.clientSecret}`).toString('base64')}` },
          // Looking the refresh token up needs Redis; /reg counts the request in Redis before anything else.
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x'.repeat(43) }).toString(),
        }));
        expect(refused.status, path).to.equal(503);
        expect(refused.headers.get('content-type'), path).to.match(/^application\/json/);
        expect(await refused.json(), path).to.include({ error: 'temporarily_unavailable' });
      }
    });

    it('reports redis unavailable on /readyz while /healthz stays 200', async function () {
      redis.cut();
      const readyz = await promptly('/readyz', readiness);
      expect(readyz).to.deep.equal({ status: 503, body: { status: 'unavailable', checks: { postgres: 'ok', redis: 'unavailable' } } });
      const healthz = await promptly('/healthz', () => fetch(`${suite.app.issuer}/healthz`));
      expect(healthz.status).to.equal(200);
    });

    it('signs in end to end again once Redis is back, without restarting the app', async function () {
      redis.cut();
      expectUnavailablePage(await promptly('authorization endpoint', async () => new Browser().follow((await startAuthorization(suite.rp)).url)));
      redis.restore();
      await eventually('/readyz ready after Redis came back', ready);
      const { tokens } = await signIn(new Browser(), suite.rp, 'alice', 'correct horse battery');
      expect(tokens.claims()?.amr).to.deep.equal(['pwd']);
    });
  });

  describe('Postgres cut', function () {
    it('answers the login form with the "temporarily unavailable" page, and the same form works once Postgres is back', async function () {
      const browser = new Browser();
      const login = await openLogin(browser, suite.rp, await startAuthorization(suite.rp));
      expect(login.html).to.contain('Log in');

      postgres.cut();
      const refused = await promptly('login POST', () => submitPassword(browser, suite.rp, login, 'alice', 'correct horse battery'));
      expectUnavailablePage(refused);

      postgres.restore();
      const done = await submitPassword(browser, suite.rp, login, 'alice', 'correct horse battery');
      expect(done.stoppedAt, `reached the callback, got ${done.status}: ${done.html.slice(0, 300)}`).to.be.a('string');
    });

    it('reports postgres unavailable on /readyz while /healthz stays 200', async function () {
      postgres.cut();
      const readyz = await promptly('/readyz', readiness);
      expect(readyz).to.deep.equal({ status: 503, body: { status: 'unavailable', checks: { postgres: 'unavailable', redis: 'ok' } } });
      expect((await fetch(`${suite.app.issuer}/healthz`)).status).to.equal(200);
    });

    it('signs in end to end again once Postgres is back, without restarting the app', async function () {
      postgres.cut();
      const browser = new Browser();
      // The client may still be in the short client cache, so the login page can open; the password cannot be checked.
      const login = await promptly('authorization endpoint', async () => browser.follow((await startAuthorization(suite.rp)).url));
      if (login.status !== 503) expectUnavailablePage(await promptly('login POST', () => submitPassword(browser, suite.rp, login, 'alice', 'correct horse battery')));
      else expectUnavailablePage(login);
      postgres.restore();
      const { tokens } = await signIn(new Browser(), suite.rp, 'alice', 'correct horse battery');
      expect(tokens.claims()?.amr).to.deep.equal(['pwd']);
    });
  });

  describe('partitions and shutdowns', function () {
    it('answers 503 within seconds when Redis stops answering (network partition), and recovers', async function () {
      const browser = new Browser();
      const login = await openLogin(browser, suite.rp, await startAuthorization(suite.rp));
      redis.cut('blackhole');
      // Redis accepts bytes but never answers: only the client's command timeout ends the wait.
      expectUnavailablePage(await promptly('login POST', () => submitPassword(browser, suite.rp, login, 'alice', 'correct horse battery')));
      expect((await promptly('/readyz', readiness)).body.checks).to.deep.equal({ postgres: 'ok', redis: 'unavailable' });
      redis.restore();
      await eventually('/readyz ready after the partition healed', ready);
      const { tokens } = await signIn(new Browser(), suite.rp, 'alice', 'correct horse battery');
      expect(tokens.claims()?.amr).to.deep.equal(['pwd']);
    });

    it('answers 503 within the query timeout when Postgres stops answering (network partition), and recovers', async function () {
      const browser = new Browser();
      const login = await openLogin(browser, suite.rp, await startAuthorization(suite.rp));
      postgres.cut('blackhole');
      // The pooled connection looks alive and statement_timeout cannot fire on a server that is cut off: only the
      // client-side query timeout (20 s) ends the wait, well before the HTTP server's 30 s request timeout.
      const started = Date.now();
      expectUnavailablePage(await submitPassword(browser, suite.rp, login, 'alice', 'correct horse battery'));
      expect(Date.now() - started, 'answered before the 30 s request timeout').to.be.below(25_000);
      postgres.restore();
      const done = await submitPassword(browser, suite.rp, login, 'alice', 'correct horse battery');
      expect(done.stoppedAt, `reached the callback, got ${done.status}`).to.be.a('string');
    });

    it('answers 503 when Postgres closes its connections as a shutting-down server does', async function () {
      const browser = new Browser();
      const login = await openLogin(browser, suite.rp, await startAuthorization(suite.rp));
      postgres.cut('close');
      expectUnavailablePage(await promptly('login POST', () => submitPassword(browser, suite.rp, login, 'alice', 'correct horse battery')));
      postgres.restore();
      const done = await submitPassword(browser, suite.rp, login, 'alice', 'correct horse battery');
      expect(done.stoppedAt, `reached the callback, got ${done.status}`).to.be.a('string');
    });
  });

  /** Signs in through the browser up to the redirect to the client, without exchanging the code. */
  async function signInUntilCallback(browser: Browser, url: string): Promise<Page & { stoppedAt: string }> {
    const login = await browser.follow(url, {}, isCallback(suite.rp));
    const done = await submitPassword(browser, suite.rp, login, 'alice', 'correct horse battery');
    if (!done.stoppedAt) throw new Error(`sign-in did not reach the callback (${done.status}): ${done.html.slice(0, 500)}`);
    return { ...done, stoppedAt: done.stoppedAt };
  }
});
