// routesUnder: a router is tried only for the paths it serves; every other request goes straight on.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import { expect } from 'chai';
import Koa from 'koa';
import { routesUnder } from '../../src/http/routes-under.js';

describe('routesUnder', function () {
  let server: Server;
  let base: string;
  let matched: number;

  before(async function () {
    const router = new Router({ prefix: '/account' });
    router.use(async (_ctx, next) => {
      matched++;
      await next();
    });
    router.get('/', (ctx) => {
      ctx.body = 'settings';
    });
    router.get('/profile', (ctx) => {
      ctx.body = 'profile';
    });
    const app = new Koa();
    app.use(routesUnder(['/account'], router));
    app.use((ctx) => {
      ctx.body = `next: ${ctx.path}`;
    });
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async function () {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(function () {
    matched = 0;
  });

  const get = async (path: string) => (await fetch(base + path)).text();

  it('serves the prefix itself and the paths under it', async function () {
    expect(await get('/account')).to.equal('settings');
    expect(await get('/account/profile')).to.equal('profile');
    expect(await get('/account/profile?x=1')).to.equal('profile');
    expect(matched).to.equal(3);
  });

  it('passes every other path on without running the router', async function () {
    expect(await get('/token')).to.equal('next: /token');
    expect(await get('/accounts')).to.equal('next: /accounts');
    expect(await get('/')).to.equal('next: /');
    expect(matched).to.equal(0);
  });

  it('passes a path under the prefix that no route serves on, as the router alone does', async function () {
    expect(await get('/account/nowhere')).to.equal('next: /account/nowhere');
  });
});
