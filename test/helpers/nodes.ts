// Several Twofold nodes behind one issuer for flow tests: a Browser and a fetch that send each request to the next node.
import * as oidc from 'openid-client';
import { Browser } from './browser.js';
import type { TestApp } from './app.js';

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
