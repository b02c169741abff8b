// One virtual user's browser: keep-alive fetch, a tiny cookie jar, forms with their CSRF token, redirects by hand.
import { responseError } from './response-error.js';

export interface Page {
  url: string;
  status: number;
  html: string;
  /** Set when following stopped at a location the caller asked to stop at (the client's redirect_uri). */
  stoppedAt?: string;
}

/** The value of a hidden input on a page. */
function hiddenInput(html: string, name: string): string | undefined {
  const match = new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(html) ?? new RegExp(`<input[^>]*value="([^"]*)"[^>]*name="${name}"`).exec(html);
  return match?.[1]?.replace(/&amp;/g, '&');
}

/** The action of the form whose action path ends with `fragment`. */
function formAction(html: string, fragment: string): string | undefined {
  const actions = [...html.matchAll(/<form[^>]*action="([^"]*)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
  return actions.find((action) => action.split('?')[0]!.endsWith(fragment));
}

/**
 * Node's fetch (undici) keeps connections alive and reuses them across requests to the same origin.
 * The jar holds name=value only: the bench talks to one host, and a path-scoped cookie sent more widely is ignored.
 */
export class Browser {
  private readonly cookies = new Map<string, string>();

  /** `timeoutMs` bounds each request, body included (none when undefined). */
  constructor(private readonly timeoutMs?: number) {}

  async request(url: string, init: { form?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'text/html', 'user-agent': 'twofold-bench' };
    if (this.cookies.size) headers['cookie'] = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const signal = this.timeoutMs === undefined ? undefined : AbortSignal.timeout(this.timeoutMs);
    const response = await fetch(url, { method: init.form ? 'POST' : 'GET', headers, body, redirect: 'manual', signal });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=.*1970/i.test(a));
      if (expired || !value) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** Follows redirects until a page is served or the next location satisfies `stop`; throws ResponseError on 4xx and 5xx. */
  async follow(url: string, init: { form?: Record<string, string> } = {}, stop: (location: string) => boolean = () => false): Promise<Page> {
    let response = await this.request(url, init);
    let current = url;
    for (let hops = 0; hops < 20; hops++) {
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) break;
      await response.arrayBuffer();
      const next = new URL(location, current).href;
      if (stop(next)) return { url: current, status: response.status, html: '', stoppedAt: next };
      current = next;
      response = await this.request(current);
    }
    const html = await response.text();
    if (response.status >= 400) throw responseError(current, response.status, html);
    return { url: current, status: response.status, html };
  }

  /** Submits the form whose action ends with `fragment`, its `_csrf` token included. */
  async submit(page: Page, fragment: string, fields: Record<string, string>, stop?: (location: string) => boolean): Promise<Page> {
    const action = formAction(page.html, fragment);
    if (!action) throw new Error(`no form *${fragment} on ${page.url} (status ${page.status}): ${page.html.replace(/\s+/g, ' ').slice(0, 300)}`);
    const csrf = hiddenInput(page.html, '_csrf');
    return this.follow(new URL(action, page.url).href, { form: { ...(csrf ? { _csrf: csrf } : {}), ...fields } }, stop);
  }
}
