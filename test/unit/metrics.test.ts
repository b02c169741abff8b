// Metric labels: every path falls in one of a few endpoint kinds, so ids in paths never multiply the series.
import { expect } from 'chai';
import { endpointOf } from '../../src/metrics.js';

describe('metrics: endpoint kinds', function () {
  it('names the protocol endpoints, the login pages and the consoles', function () {
    const cases: [string, string][] = [
      ['/.well-known/openid-configuration', 'discovery'],
      ['/jwks', 'jwks'],
      ['/auth', 'authorization'],
      ['/auth/Xy7-uid', 'authorization'],
      ['/token', 'token'],
      ['/token/introspection', 'introspection'],
      ['/token/revocation', 'revocation'],
      ['/me', 'userinfo'],
      ['/session/end', 'logout'],
      ['/session/end/confirm', 'logout'],
      ['/reg', 'registration'],
      ['/reg/3f2a9c', 'registration'],
      ['/interaction/abc123/totp', 'login'],
      ['/account', 'account'],
      ['/account/two-factor', 'account'],
      ['/admin/clients/3f2a9c/edit', 'admin'],
      ['/healthz', 'health'],
      ['/readyz', 'health'],
      ['/assets/twofold.css', 'assets'],
    ];
    for (const [path, kind] of cases) expect(endpointOf(path), path).to.equal(kind);
  });

  it('puts everything else, lookalike paths included, under "other"', function () {
    for (const path of ['/', '/favicon.ico', '/authx', '/tokens', '/me2', '/administrator', '/registration', '/jwks.json']) {
      expect(endpointOf(path), path).to.equal('other');
    }
  });
});
