// Scenarios 3 to 6: client_credentials, refresh_token with rotation, userinfo, and discovery + JWKS.
import { signIn, takeUser } from './login.js';
import { tokenRequest, type BenchContext, type Scenario } from './context.js';

/** Logs in one plain user per virtual user (untimed) and returns their token responses. */
async function loginEach(ctx: BenchContext, concurrency: number, params: Record<string, string> = {}) {
  return Promise.all(Array.from({ length: concurrency }, () => signIn(ctx, takeUser(ctx).username, undefined, params)));
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const response = await fetch(url, { headers: { accept: 'application/json', ...headers } });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${JSON.stringify(body).slice(0, 200)}`);
  return body;
}

export const clientCredentials: Scenario = {
  name: 'client_credentials',
  async prepare(ctx) {
    return async () => {
      const tokens = await tokenRequest(ctx, ctx.seeded.serviceClient, { grant_type: 'client_credentials' });
      if (tokens.token_type.toLowerCase() !== 'bearer') throw new Error(`token_type ${tokens.token_type}`);
    };
  },
};

export const refreshToken: Scenario = {
  name: 'refresh_token (rotation)',
  async prepare(ctx, concurrency) {
    // Refresh tokens need offline_access, which needs prompt=consent (a first-party client is not asked).
    const logins = await loginEach(ctx, concurrency, { scope: 'openid offline_access', prompt: 'consent' });
    const latest = logins.map((tokens) => {
      if (!tokens.refresh_token) throw new Error('login with offline_access returned no refresh_token');
      return tokens.refresh_token;
    });
    return async (vu) => {
      const tokens = await tokenRequest(ctx, ctx.seeded.webClient, { grant_type: 'refresh_token', refresh_token: latest[vu]! });
      if (!tokens.refresh_token || tokens.refresh_token === latest[vu]) throw new Error('the refresh token was not rotated');
      // Each virtual user keeps its newest token: presenting a rotated one would revoke the grant.
      latest[vu] = tokens.refresh_token;
    };
  },
};

export const userinfo: Scenario = {
  name: 'userinfo',
  async prepare(ctx, concurrency) {
    const logins = await loginEach(ctx, concurrency);
    return async (vu) => {
      const claims = await getJson(ctx.metadata.userinfo_endpoint, { authorization: `Bearer ${logins[vu]!.access_token}` });
      if (typeof claims['sub'] !== 'string' || typeof claims['email'] !== 'string') throw new Error(`userinfo lacks sub or email: ${JSON.stringify(claims)}`);
    };
  },
};

export const discovery: Scenario = {
  name: 'discovery + JWKS',
  async prepare(ctx) {
    return async () => {
      const metadata = await getJson(`${ctx.issuer}/.well-known/openid-configuration`);
      if (metadata['issuer'] !== ctx.issuer) throw new Error(`discovery issuer is ${String(metadata['issuer'])}`);
      const jwks = await getJson(String(metadata['jwks_uri']));
      if (!Array.isArray(jwks['keys']) || jwks['keys'].length === 0) throw new Error('the JWKS has no keys');
    };
  },
};

