// limitRegistration: which requests are counted, and the answers over the limit and while the counter's store is down.
import { createServer, type Server } from 'node:http';
import { expect } from 'chai';
import Koa from 'koa';
import type Provider from 'oidc-provider';
import { limitRegistration } from '../../src/oidc/limit-registration.js';
import { createAttemptLimit, type AttemptLimit } from '../../src/security/attempt-limits.js';
import { createLogger } from '../../src/logger.js';
import { StoreUnavailableError } from '../../src/storage/store-unavailable.js';

const provider = { pathFor: (name: string) => (name === 'registration' ? '/reg' : '/') } as unknown as Provider;
const rule = (name: string) => ({ name, allowed: 2, windowSeconds: 60, lockSeconds: 60 });

describe('limitRegistration', function () {
  let server: Server;
  let base: string;
  let limits: { create: AttemptLimit; manage: AttemptLimit };

  before(async function () {
    const app = new Koa();
    app.use(limitRegistration(provider, { create: { take: (key) => limits.create.take(key) } as AttemptLimit, manage: { take: (key) => limits.manage.take(key) } as AttemptLimit }, createLogger('silent')));
    app.use((ctx) => {
      ctx.body = { reached: ctx.path };
    });
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  beforeEach(function () {
    limits = { create: createAttemptLimit(rule('create'), { prefix: 't:' }), manage: createAttemptLimit(rule('manage'), { prefix: 't:' }) };
  });
  after(function () {
    server.close();
  });

  it('counts POST /reg and management of /reg/:id separately, and nothing else', async function () {
    for (let i = 0; i < 3; i++) {
      expect((await fetch(`${base}/reg`)).status, 'GET /reg is not a registration').to.equal(200);
      expect((await fetch(`${base}/register`, { method: 'POST' })).status).to.equal(200);
      expect((await fetch(`${base}/reg/abc`, { method: 'OPTIONS' })).status).to.equal(200);
    }
    expect((await fetch(`${base}/reg`, { method: 'POST' })).status).to.equal(200);
    expect((await fetch(`${base}/reg`, { method: 'POST' })).status).to.equal(200);
    expect((await fetch(`${base}/reg`, { method: 'POST' })).status).to.equal(429);
    for (const method of ['GET', 'PUT']) expect((await fetch(`${base}/reg/abc`, { method })).status, method).to.equal(200);
    const limited = await fetch(`${base}/reg/abc`, { method: 'DELETE' });
    expect(limited.status).to.equal(429);
    expect(Number(limited.headers.get('retry-after'))).to.be.within(1, 60);
    expect(await limited.json()).to.have.property('error', 'temporarily_unavailable');
  });

  it('fails closed with a JSON 503 while the counter cannot be kept', async function () {
    limits.create = { take: () => Promise.reject(new StoreUnavailableError('redis')) } as unknown as AttemptLimit;
    const response = await fetch(`${base}/reg`, { method: 'POST' });
    expect(response.status).to.equal(503);
    expect(response.headers.get('retry-after')).to.equal('5');
    expect(await response.json()).to.deep.equal({ error: 'temporarily_unavailable', error_description: 'a storage service is unreachable; retry shortly' });
  });
});
