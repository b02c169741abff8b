// requireHttpsForBrowsers: browser pages refused over plain http when ISSUER is https, and the operator told.
import { expect } from 'chai';
import type { Context } from 'koa';
import { pino } from 'pino';
import { AppError } from '../../src/errors.js';
import { requireHttpsForBrowsers } from '../../src/http/require-https.js';

function recordingLogger() {
  const lines: Array<{ msg: string; path?: string; forwardedProto?: string }> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

const request = (path: string, secure: boolean, forwardedProto = '') => ({ path, secure, get: () => forwardedProto }) as unknown as Context;

describe('requireHttpsForBrowsers', function () {
  it('refuses the browser pages over plain http with HTTPS_REQUIRED, and lets everything else through', async function () {
    const { logger } = recordingLogger();
    const middleware = requireHttpsForBrowsers(logger);
    for (const path of ['/auth', '/auth/abc', '/interaction/xyz', '/account', '/admin/clients', '/session/end']) {
      const refused = await Promise.resolve(middleware(request(path, false), async () => undefined)).then(() => undefined, (err: unknown) => err);
      expect(refused, path).to.be.instanceOf(AppError).and.to.have.property('code', 'HTTPS_REQUIRED');
    }
    for (const [path, secure] of [['/account', true], ['/healthz', false], ['/token', false], ['/jwks', false], ['/.well-known/openid-configuration', false], ['/accounts', false]] as const) {
      let passed = false;
      await middleware(request(path, secure), async () => {
        passed = true;
      });
      expect(passed, path).to.equal(true);
    }
  });

  it('tells the operator what to fix, at most once a minute', async function () {
    const { logger, lines } = recordingLogger();
    let now = 0;
    const middleware = requireHttpsForBrowsers(logger, () => now);
    const refuse = (forwardedProto: string) => Promise.resolve(middleware(request('/account', false, forwardedProto), async () => undefined)).catch(() => undefined);
    await refuse('http');
    now += 59_000;
    await refuse('');
    expect(lines).to.have.length(1);
    expect(lines[0]!.msg).to.contain('X-Forwarded-Proto: https').and.to.contain('TRUST_PROXY');
    expect(lines[0]).to.include({ path: '/account', forwardedProto: 'http' });
    now += 1_000;
    await refuse('');
    expect(lines).to.have.length(2);
  });
});
