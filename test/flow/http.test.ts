// HTTP hygiene: security headers, error pages for browsers and JSON for API clients, health endpoints.
import { expect } from 'chai';
import { Browser } from '../helpers/browser.js';
import { createClient } from '../helpers/app.js';
import { discoverClient, openLogin, startAuthorization } from '../helpers/relying-party.js';
import { useFlowSuite } from '../helpers/flow-suite.js';

describe('HTTP responses', function () {
  const suite = useFlowSuite({ clock: false, client: false });

  it('sends the security headers on pages', async function () {
    const rp = await discoverClient(suite.app.issuer, await createClient(suite.app));
    const page = await openLogin(new Browser(), rp, await startAuthorization(rp));
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).to.contain("frame-ancestors 'none'");
    expect(csp).to.contain("object-src 'none'");
    expect(csp).to.contain("base-uri 'none'");
    expect(csp).to.match(/script-src 'self'(;|$)/);
    expect(csp).not.to.contain('unsafe-inline');
    expect(page.headers.get('strict-transport-security')).to.equal('max-age=31536000; includeSubDomains');
    expect(page.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(page.headers.get('referrer-policy')).to.equal('no-referrer');
    expect(page.headers.get('cross-origin-opener-policy')).to.equal('same-origin');
    expect(page.headers.get('x-frame-options')).to.equal('DENY');
    expect(page.headers.get('x-powered-by')).to.equal(null);
  });

  it('sets the session and interaction cookies httpOnly and SameSite=Lax', async function () {
    const rp = await discoverClient(suite.app.issuer, await createClient(suite.app));
    const start = await startAuthorization(rp);
    const response = await new Browser().request(start.url);
    const cookies = response.headers.getSetCookie();
    expect(cookies.length).to.be.greaterThan(0);
    for (const cookie of cookies) {
      expect(cookie.toLowerCase(), cookie).to.contain('httponly');
      expect(cookie.toLowerCase(), cookie).to.contain('samesite=lax');
    }
  });

  it('renders an unknown path as a 404 page for browsers and JSON for API clients', async function () {
    const page = await fetch(`${suite.app.issuer}/nothing-here`, { headers: { accept: 'text/html' } });
    expect(page.status).to.equal(404);
    expect(await page.text()).to.contain('Page not found');
    const api = await fetch(`${suite.app.issuer}/nothing-here`, { headers: { accept: 'application/json' } });
    expect(api.status).to.equal(404);
    expect(await api.json()).to.deep.equal({ error: 'not_found', error_description: 'not found' });
  });

  it('answers OAuth errors from the token endpoint as JSON, never as a page', async function () {
    const response = await fetch(`${suite.app.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=authorization_code&code=x' });
    expect(response.status).to.equal(400);
    const body = (await response.json()) as { error: string };
    expect(body.error).to.be.oneOf(['invalid_request', 'invalid_client']);
  });

  it('refuses an oversized form with 413 and a page', async function () {
    const rp = await discoverClient(suite.app.issuer, await createClient(suite.app));
    const browser = new Browser();
    const page = await openLogin(browser, rp, await startAuthorization(rp));
    const action = new URL(/action="([^"]*\/login)"/.exec(page.html)![1]!, page.url).href;
    const response = await browser.request(action, { form: { username: 'x', password: 'y'.repeat(40_000) } });
    expect(response.status).to.equal(413);
    expect(await response.text()).to.contain('The form was too large');
  });

  it('serves /healthz and /readyz', async function () {
    const health = await fetch(`${suite.app.issuer}/healthz`);
    expect(health.status).to.equal(200);
    expect(await health.json()).to.deep.equal({ status: 'ok' });
    const ready = await fetch(`${suite.app.issuer}/readyz`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.equal({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });
});
