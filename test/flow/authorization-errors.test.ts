// Authorization requests that must fail: unknown client, unregistered redirect URI, no PKCE, implicit flow.
import { expect } from 'chai';
import { Browser } from '../helpers/browser.js';
import { startAuthorization } from '../helpers/relying-party.js';
import { useFlowSuite } from '../helpers/flow-suite.js';

describe('authorization request errors', function () {
  const suite = useFlowSuite({ clock: false });

  async function authorize(params: Record<string, string | undefined>) {
    const start = await startAuthorization(suite.rp);
    const url = new URL(start.url);
    for (const [key, value] of Object.entries(params)) {
      if (value === undefined) url.searchParams.delete(key);
      else url.searchParams.set(key, value);
    }
    return new Browser().request(url.href);
  }

  it('shows an error page, never a redirect, for an unknown client', async function () {
    const response = await authorize({ client_id: 'no-such-client' });
    expect(response.status).to.equal(400);
    expect(response.headers.get('location')).to.equal(null);
    const html = await response.text();
    expect(html).to.contain('could not be accepted');
    expect(html).to.contain('invalid_client');
  });

  it('shows an error page, never a redirect, for an unregistered redirect URI', async function () {
    for (const redirect of ['https://evil.example/callback', 'http://localhost:3001/callback/extra', 'http://localhost:3001/callback?x=1', 'http://localhost:3001/CALLBACK']) {
      const response = await authorize({ redirect_uri: redirect });
      expect(response.status, redirect).to.equal(400);
      expect(response.headers.get('location'), redirect).to.equal(null);
      expect(await response.text()).to.contain('redirect_uri');
    }
  });

  it('refuses a request without redirect_uri even though the client has only one', async function () {
    const response = await authorize({ redirect_uri: undefined });
    expect(response.status).to.equal(400);
    expect(response.headers.get('location')).to.equal(null);
  });

  it('requires PKCE with S256 from a confidential client, and refuses plain', async function () {
    for (const params of [{ code_challenge: undefined, code_challenge_method: undefined }, { code_challenge_method: 'plain' }]) {
      const response = await authorize(params);
      expect(response.status).to.be.oneOf([302, 303]);
      const location = new URL(response.headers.get('location')!);
      expect(location.origin + location.pathname).to.equal(suite.rp.redirectUri);
      expect(location.searchParams.get('error')).to.equal('invalid_request');
      expect(location.searchParams.get('iss')).to.equal(suite.app.issuer);
    }
  });

  it('refuses implicit and hybrid response types', async function () {
    for (const responseType of ['token', 'id_token', 'code id_token', 'id_token token']) {
      const response = await authorize({ response_type: responseType });
      const location = response.headers.get('location');
      const error = location ? new URL(location.replace('#', '?')).searchParams.get('error') : 'no redirect';
      expect(error, responseType).to.be.oneOf(['unsupported_response_type', 'invalid_request', 'unauthorized_client']);
    }
  });

  it('answers prompt=none without a session with login_required', async function () {
    const response = await authorize({ prompt: 'none' });
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error')).to.equal('login_required');
  });
});
