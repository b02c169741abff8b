// An https issuer behind a TLS-terminating proxy: prefixed, Secure cookies through a whole login, and a clear page
// for a browser request that reached Twofold without the proxy's word that it came over https.
import { expect } from 'chai';
import { Browser } from '../helpers/browser.js';
import { createUser, startTestApp, type TestApp } from '../helpers/app.js';

const ISSUER = 'https://login.example.test';
const PASSWORD = 'behind the proxy 1';

/** A browser whose https requests to ISSUER reach the test node through a "proxy" that says they came over https. */
class BehindProxy extends Browser {
  constructor(private readonly node: TestApp, private readonly forwardedProto: string | null = 'https') {
    super();
  }

  protected override send(url: string, init: RequestInit): Promise<Response> {
    const target = url.startsWith(ISSUER) ? `${this.node.issuer}${url.slice(ISSUER.length)}` : url;
    const headers = new Headers(init.headers);
    // What a proxy sends on: the public host, and (unless it is misconfigured) that the browser used https.
    headers.set('x-forwarded-host', new URL(ISSUER).host);
    if (this.forwardedProto) headers.set('x-forwarded-proto', this.forwardedProto);
    return fetch(target, { ...init, headers });
  }
}

describe('an https issuer behind a proxy', function () {
  let app: TestApp;
  before(async function () {
    app = await startTestApp({ ISSUER, TRUST_PROXY: 'true' });
    await createUser(app, { username: 'proxied', password: PASSWORD });
  });
  after(async function () {
    await app?.close();
  });

  it('names every cookie with __Host- or __Secure-, marks it Secure, and signs in with them', async function () {
    const browser = new BehindProxy(app);
    const setCookies: string[] = [];
    const send = browser['send'].bind(browser);
    browser['send'] = async (url: string, init: RequestInit) => {
      const response = await send(url, init);
      setCookies.push(...response.headers.getSetCookie());
      return response;
    };
    const login = await browser.follow(`${ISSUER}/account`);
    expect(login.html, login.html.slice(0, 500)).to.contain('<label for="password">');
    // The cookie jar drops prefixed cookies that break the prefix rules, as browsers do, so this login needs them right.
    const done = await browser.submit(login, '/login', { username: 'proxied', password: PASSWORD });
    expect(done.url).to.equal(`${ISSUER}/account`);
    expect(done.html).to.contain('Your settings');

    const names = [...new Set(setCookies.map((cookie) => cookie.split('=')[0]!))];
    expect(names).to.include.members(['__Host-session', '__Host-session.sig', '__Secure-interaction', '__Secure-interaction.sig', '__Host-twofold.csrf', '__Host-twofold.csrf.sig']);
    for (const cookie of setCookies) {
      const [name] = cookie.split('=');
      expect(name, cookie).to.match(/^__(Host|Secure)-/);
      expect(cookie.toLowerCase(), cookie).to.contain('; secure');
      expect(cookie.toLowerCase(), cookie).to.contain('; httponly');
      if (name!.startsWith('__Host-')) {
        expect(cookie.toLowerCase(), cookie).to.contain('; path=/;');
        expect(cookie.toLowerCase(), cookie).not.to.contain('domain=');
      }
    }
  });

  it('answers a page reached without the proxy saying https with a page that says so; discovery and health still answer', async function () {
    for (const forwardedProto of [null, 'http']) {
      const page = await new BehindProxy(app, forwardedProto).follow(`${ISSUER}/account`);
      expect(page.status, String(forwardedProto)).to.equal(403);
      expect(page.html).to.contain('This page needs a secure connection');
      expect(page.headers.get('set-cookie'), 'no cookie is set').to.equal(null);
    }
    const authorize = await fetch(`${app.issuer}/auth?client_id=twofold-account&response_type=code&scope=openid`, { redirect: 'manual' });
    expect(authorize.status).to.equal(403);
    const discovery = await fetch(`${app.issuer}/.well-known/openid-configuration`);
    expect(discovery.status).to.equal(200);
    expect(((await discovery.json()) as { issuer: string }).issuer).to.equal(ISSUER);
    expect((await fetch(`${app.issuer}/healthz`)).status).to.equal(200);
  });
});
