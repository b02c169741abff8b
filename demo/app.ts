// The demo relying party: a small Koa app that signs a visitor in with Twofold and shows what it learned.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router } from '@koa/router';
import Koa from 'koa';
import type { Context } from 'koa';
import * as client from 'openid-client';
import pug from 'pug';

export interface DemoOptions {
  /** Twofold's issuer identifier, e.g. http://localhost:3000. */
  issuer: URL;
  clientId: string;
  /** Absent for a public client (token_endpoint_auth_method "none"). */
  clientSecret?: string | undefined;
  /** Where the demo itself is reached, e.g. http://localhost:3001; the redirect URIs hang off it. */
  baseUrl: URL;
  /** Pause between background discovery attempts while Twofold is unreachable; 0 turns them off. */
  retryMs?: number;
  log?: (line: string) => void;
}

type FailureCode = 'unreachable' | 'discovery_failed';
interface DiscoveryFailure { code: FailureCode; detail: string }

class DiscoveryError extends Error {
  constructor(readonly failure: DiscoveryFailure) {
    super(failure.detail);
  }
}

interface Flow { codeVerifier: string; state: string; nonce: string }
interface Session {
  idToken: string;
  claims: client.IDToken;
  userinfo: client.UserInfoResponse | undefined;
  userinfoError: string | undefined;
  scope: string | undefined;
  refreshTokenIssued: boolean;
}

// Cookies ignore ports, so Twofold on :3000 sees these too: prefixed names keep them apart from its own.
const FLOW_COOKIE = 'twofold_demo_flow';
const SESSION_COOKIE = 'twofold_demo_session';
const FLOW_TTL_MS = 10 * 60_000;
const SESSION_TTL_MS = 60 * 60_000;
const CLAIMS_SHOWN = ['sub', 'name', 'preferred_username', 'email', 'email_verified', 'acr', 'amr', 'auth_time', 'iss', 'aud', 'exp'];
const viewsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'views');

/** Builds the demo Koa app; it discovers Twofold lazily and keeps retrying while Twofold is down. */
export function createDemoApp(options: DemoOptions): Koa {
  const log = options.log ?? ((line: string) => console.log(line));
  const issuer = options.issuer.href.replace(/\/$/, '');
  const redirectUri = new URL('/callback', options.baseUrl).href;
  const postLogoutRedirectUri = new URL('/', options.baseUrl).href;
  const connection = createIssuerConnection(options, issuer, log);
  // Server-side, short-lived state keyed by random cookie values: nothing secret ever reaches the browser.
  const flows = createTtlStore<Flow>(FLOW_TTL_MS, 1000);
  const sessions = createTtlStore<Session>(SESSION_TTL_MS, 1000);
  const views = compileViews(['home', 'signed-in', 'error']);
  const cookieOptions = { httpOnly: true, sameSite: 'lax', path: '/', overwrite: true } as const;

  const render = (ctx: Context, view: string, locals: Record<string, unknown>, status = 200) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = views[view]!({ issuer, clientId: options.clientId, ...locals });
  };
  const renderFailure = (ctx: Context, err: unknown) => {
    if (err instanceof DiscoveryError) return render(ctx, 'error', { ...err.failure }, 503);
    throw err;
  };

  const router = new Router();
  router.get('/', (ctx) => {
    const session = sessions.get(ctx.cookies.get(SESSION_COOKIE));
    if (session) return render(ctx, 'signed-in', { rows: claimRows(session.claims), ...sessionLocals(session) });
    if (!connection.current()) connection.get().catch(() => {});
    render(ctx, 'home', { failure: connection.failure() });
  });

  router.get('/login', async (ctx) => {
    const config = await connection.get().catch((err: unknown) => renderFailure(ctx, err));
    if (!config) return;
    const flow = { codeVerifier: client.randomPKCECodeVerifier(), state: client.randomState(), nonce: client.randomNonce() };
    // offline_access is only honoured by oidc-provider together with prompt=consent, so ask for both or neither.
    const offline = ctx.query.offline_access === '1';
    const prompts = [ctx.query.prompt === 'login' ? 'login' : '', offline ? 'consent' : ''].filter(Boolean);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: offline ? 'openid profile email offline_access' : 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(flow.codeVerifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
      ...(prompts.length ? { prompt: prompts.join(' ') } : {}),
    });
    ctx.cookies.set(FLOW_COOKIE, flows.put(flow), { ...cookieOptions, maxAge: FLOW_TTL_MS });
    ctx.redirect(url.href);
  });

  router.get('/callback', async (ctx) => {
    // The flow is single-use: taken out of the store whatever happens next.
    const flow = flows.take(ctx.cookies.get(FLOW_COOKIE));
    ctx.cookies.set(FLOW_COOKIE, null, cookieOptions);
    const error = ctx.query.error;
    if (typeof error === 'string') {
      return render(ctx, 'error', { code: 'provider', error, description: queryText(ctx.query.error_description) }, 400);
    }
    if (!flow) return render(ctx, 'error', { code: 'expired' }, 400);
    const config = await connection.get().catch((err: unknown) => renderFailure(ctx, err));
    if (!config) return;
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, new URL(ctx.originalUrl, options.baseUrl), {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      log(`Sign-in failed at the token step: ${describeError(err)}`);
      return render(ctx, 'error', { code: 'exchange', detail: describeError(err) }, 502);
    }
    const claims = tokens.claims()!;
    const session: Session = {
      idToken: tokens.id_token!,
      claims,
      userinfo: undefined,
      userinfoError: undefined,
      scope: tokens.scope,
      refreshTokenIssued: typeof tokens.refresh_token === 'string',
    };
    try {
      session.userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    } catch (err) {
      session.userinfoError = describeError(err);
    }
    ctx.cookies.set(SESSION_COOKIE, sessions.put(session), { ...cookieOptions, maxAge: SESSION_TTL_MS });
    // Redirect rather than render, so reloading the page does not replay the (already used) code.
    ctx.redirect('/');
  });

  router.post('/logout', (ctx) => {
    // POST plus a SameSite=Lax cookie: another site cannot sign the visitor out behind their back.
    const session = sessions.take(ctx.cookies.get(SESSION_COOKIE));
    ctx.cookies.set(SESSION_COOKIE, null, cookieOptions);
    const config = connection.current();
    if (!session || !config?.serverMetadata().end_session_endpoint) return ctx.redirect('/');
    const url = client.buildEndSessionUrl(config, {
      id_token_hint: session.idToken,
      post_logout_redirect_uri: postLogoutRedirectUri,
    });
    ctx.redirect(url.href);
  });

  const app = new Koa();
  app.use(async (ctx, next) => {
    // Plain pages with a little inline CSS; tokens and claims are never cached or leaked through Referer.
    ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'");
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', 'no-store');
    // Cookies are per host name: a visit to 127.0.0.1 would lose its flow cookie on the way back to localhost.
    if (ctx.method === 'GET' && ctx.host !== options.baseUrl.host) return ctx.redirect(new URL(ctx.url, options.baseUrl).href);
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) render(ctx, 'error', { code: 'not_found' }, 404);
    } catch (err) {
      log(`Unexpected error on ${ctx.method} ${ctx.path}: ${describeError(err)}`);
      render(ctx, 'error', { code: 'unexpected', detail: describeError(err) }, 500);
    }
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  connection.start(options.retryMs ?? 5000);
  return app;
}

function createIssuerConnection(options: DemoOptions, issuer: string, log: (line: string) => void) {
  let config: client.Configuration | undefined;
  let inflight: Promise<client.Configuration> | undefined;
  let failure: DiscoveryFailure | undefined;

  const get = (): Promise<client.Configuration> => {
    if (config) return Promise.resolve(config);
    inflight ??= discover(options)
      .then((discovered) => {
        config = discovered;
        failure = undefined;
        log(`Connected to Twofold at ${issuer}.`);
        return discovered;
      })
      .catch((err: unknown) => {
        const next = describeDiscoveryFailure(issuer, err);
        if (next.detail !== failure?.detail) log(`${next.detail} Will keep retrying.`);
        failure = next;
        throw new DiscoveryError(next);
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
  const start = (retryMs: number) => {
    const attempt = () => {
      get().catch(() => {
        if (retryMs > 0) setTimeout(attempt, retryMs).unref();
      });
    };
    attempt();
  };
  return { get, start, current: () => config, failure: () => failure };
}

function discover(options: DemoOptions): Promise<client.Configuration> {
  const secret = options.clientSecret;
  return client.discovery(
    options.issuer,
    options.clientId,
    secret ? { client_secret: secret } : undefined,
    // client_secret_basic is oidc-provider's default for confidential clients; "none" for public ones.
    secret ? client.ClientSecretBasic(secret) : client.None(),
    {
      // Plain http is only for an issuer on this machine or a private network during development.
      execute: options.issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [],
      timeout: 10,
    },
  );
}

function describeDiscoveryFailure(issuer: string, err: unknown): DiscoveryFailure {
  if (err instanceof client.ClientError) {
    const cause = err.cause as { attribute?: unknown; body?: { issuer?: unknown } } | undefined;
    const announced = cause?.attribute === 'issuer' ? cause.body?.issuer : undefined;
    const hint = typeof announced === 'string' ? ` (it calls itself ${announced}; pass that as --issuer)` : '';
    return { code: 'discovery_failed', detail: `Twofold answered at ${issuer} but discovery failed: ${err.message}${hint}.` };
  }
  return { code: 'unreachable', detail: `Twofold is not reachable at ${issuer} (${describeError(err)}); start it with npm start.` };
}

function describeError(err: unknown): string {
  if (err instanceof client.ResponseBodyError || err instanceof client.AuthorizationResponseError) {
    return err.error_description ? `${err.error}: ${err.error_description}` : err.error;
  }
  if (err instanceof Error) {
    const cause = err.cause as { code?: unknown } | undefined;
    return typeof cause?.code === 'string' ? `${err.message}, ${cause.code}` : err.message;
  }
  return String(err);
}

function claimRows(claims: client.IDToken) {
  return CLAIMS_SHOWN.map((name) => ({ name, value: formatClaim(name, claims[name]) }));
}

function formatClaim(name: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if ((name === 'exp' || name === 'auth_time') && typeof value === 'number') {
    return `${value} (${new Date(value * 1000).toISOString()})`;
  }
  if (Array.isArray(value)) return value.join(', ');
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function sessionLocals(session: Session) {
  return {
    scope: session.scope,
    refreshTokenIssued: session.refreshTokenIssued,
    userinfo: session.userinfo ? JSON.stringify(session.userinfo, null, 2) : undefined,
    userinfoError: session.userinfoError,
    allClaims: JSON.stringify(session.claims, null, 2),
  };
}

function queryText(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function compileViews(names: string[]): Record<string, pug.compileTemplate> {
  return Object.fromEntries(names.map((name) => [name, pug.compileFile(path.join(viewsDir, `${name}.pug`))]));
}

function createTtlStore<T>(ttlMs: number, max: number) {
  const entries = new Map<string, { value: T; expires: number }>();
  const get = (id: string | undefined): T | undefined => {
    const entry = id === undefined ? undefined : entries.get(id);
    if (!entry) return undefined;
    if (entry.expires > Date.now()) return entry.value;
    entries.delete(id!);
    return undefined;
  };
  return {
    get,
    take(id: string | undefined): T | undefined {
      const value = get(id);
      if (id !== undefined) entries.delete(id);
      return value;
    },
    put(value: T): string {
      // Bounded so a flood of /login requests cannot grow memory without limit: the oldest entry goes first.
      if (entries.size >= max) entries.delete(entries.keys().next().value!);
      const id = randomBytes(32).toString('base64url');
      entries.set(id, { value, expires: Date.now() + ttlMs });
      return id;
    },
  };
}
