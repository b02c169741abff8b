// Several Twofold nodes behind one issuer for flow tests: a Browser and a fetch that send each request to the next node.
import { expect } from 'chai';
import * as oidc from 'openid-client';
import { Browser } from './browser.js';
import type { TestApp } from './app.js';
import { exchangeCode, isCallback, startSignIn, type RelyingParty } from './relying-party.js';

/** Sends request after request to the nodes in turn (round robin), like a load balancer; counts what each got. */
export class Rotation {
  private turn = 0;
  readonly hits: number[];

  /** `nodes` may change while in use, as when a load balancer takes a dead node out. */
  constructor(private readonly issuer: string, readonly nodes: Array<Pick<TestApp, 'issuer'>>) {
    this.hits = nodes.map(() => 0);
  }

  // A node may build absolute URLs from the Host it was reached at, so every node's origin is routed too.
  private readonly origins = new Set<string>();

  /** The URL with the issuer's (or any node's) origin replaced by the next node's; other URLs are left alone. */
  route(url: string): string {
    const target = new URL(url);
    for (const origin of [this.issuer, ...this.nodes.map((node) => node.issuer)]) this.origins.add(new URL(origin).origin);
    if (!this.origins.has(target.origin)) return url;
    const index = this.turn++ % this.nodes.length;
    this.hits[index]! += 1;
    target.host = new URL(this.nodes[index]!.issuer).host;
    return target.href;
  }

  /** A Browser whose every request goes to the next node. */
  browser(): Browser {
    const route = (url: string) => this.route(url);
    return new (class extends Browser {
      override request(url: string, init?: Parameters<Browser['request']>[1]): Promise<Response> {
        return super.request(route(url), init);
      }
    })();
  }

  /** Makes openid-client send every request of `config` (token, userinfo, introspection...) to the next node. */
  attach(config: oidc.Configuration): void {
    config[oidc.customFetch] = (url, options) => fetch(this.route(url), options);
  }
}

/**
 * The journey the multi-node tests alternate between nodes: password, app code (amr pwd otp mfa), token exchange,
 * then a refresh whose rotated token is refused when replayed. Returns the first token response.
 */
export async function signInWithCodeAndRefresh(rp: RelyingParty, browser: Browser, login: { username: string; password: string; accountId: string; code: () => string }) {
  const { start, page } = await startSignIn(rp, login.username, login.password, { scope: 'openid profile offline_access', prompt: 'consent' }, browser);
  expect(page.html, page.html.slice(0, 800)).to.contain('autocomplete="one-time-code"');
  const done = await browser.submit(page, '/totp', { code: login.code() }, isCallback(rp));
  expect(done.stoppedAt, done.html.slice(0, 800)).to.be.a('string');
  const tokens = await exchangeCode(rp, done.stoppedAt!, start);
  expect(tokens.claims()?.sub).to.equal(login.accountId);
  expect(tokens.claims()?.amr).to.deep.equal(['pwd', 'otp', 'mfa']);

  const rotated = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
  expect(rotated.refresh_token).to.be.a('string').and.not.equal(tokens.refresh_token);
  const replay = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!).then(() => 'accepted', (err: { error?: string }) => err.error);
  expect(replay, 'the rotated refresh token, replayed (on another node)').to.equal('invalid_grant');
  return tokens;
}
