// A minimal browser for flow tests: a cookie jar, forms with their CSRF token, and redirects followed by hand.
import { CookieJar } from 'tough-cookie';

export interface Page {
  url: string;
  status: number;
  html: string;
  headers: Headers;
  /** Set when following stopped at a location the caller asked to stop at (e.g. the client's redirect_uri). */
  stoppedAt?: string;
}

/** Extracts the value of a hidden input from a page. */
export function hiddenInput(html: string, name: string): string | undefined {
  const match = new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(html) ?? new RegExp(`<input[^>]*value="([^"]*)"[^>]*name="${name}"`).exec(html);
  return match?.[1]?.replace(/&amp;/g, '&');
}

/** Extracts the action of the form whose action ends with `fragment` (or, failing that, contains it). */
export function formAction(html: string, fragment: string): string | undefined {
  const actions = [...html.matchAll(/<form[^>]*action="([^"]*)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
  return actions.find((action) => action.split('?')[0]!.endsWith(fragment)) ?? actions.find((action) => action.includes(fragment));
}

export class Browser {
  readonly jar = new CookieJar();
  userAgent = 'twofold-flow-test';

  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('accept', 'text/html');
    headers.set('user-agent', this.userAgent);
    const cookie = await this.jar.getCookieString(url);
    if (cookie) headers.set('cookie', cookie);
    let body: string | undefined;
    if (init.form) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(init.form).toString();
    }
    const response = await this.send(url, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    for (const setCookie of response.headers.getSetCookie()) await this.jar.setCookie(setCookie, url);
    return response;
  }

  /** Sends one request over the network; the cookie jar has already seen `url` (a subclass may send it elsewhere). */
  protected send(url: string, init: RequestInit): Promise<Response> {
    return fetch(url, init);
  }

  /** Follows redirects until a page is served or the next location satisfies `stop` (e.g. the client's redirect_uri). */
  async follow(url: string, init: { method?: string; form?: Record<string, string> } = {}, stop: (location: string) => boolean = () => false): Promise<Page> {
    let response = await this.request(url, init);
    let current = url;
    for (let hops = 0; hops < 20; hops++) {
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) break;
      const next = new URL(location, current).href;
      if (stop(next)) return { url: current, status: response.status, html: '', headers: response.headers, stoppedAt: next };
      current = next;
      response = await this.request(current);
    }
    return { url: current, status: response.status, html: await response.text(), headers: response.headers };
  }

  /** Submits the form on `page` whose action contains `actionFragment`, with its CSRF token added. */
  async submit(page: Page, actionFragment: string, fields: Record<string, string>, stop?: (location: string) => boolean): Promise<Page> {
    const action = formAction(page.html, actionFragment);
    if (!action) throw new Error(`no form with action *${actionFragment}* on ${page.url} (status ${page.status}):\n${page.html.slice(0, 2000)}`);
    const csrf = hiddenInput(page.html, '_csrf');
    return this.follow(new URL(action, page.url).href, { form: { ...(csrf ? { _csrf: csrf } : {}), ...fields } }, stop);
  }
}
