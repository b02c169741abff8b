// The baseline the speed targets are set against: a bare oidc-provider with its in-memory adapter, argon2id
// (m=19 MiB, t=2, p=1) and the same password + TOTP pages, with none of Twofold's stores, limits, audit or CSRF.
// `npm run bench -- --reference` runs the full login, client_credentials and refresh_token against it and against
// Twofold, on the same machine at the same time, so the ratios hold even when the machine's speed does not.
// Not part of the product.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { hash, verify } from '@node-rs/argon2';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { ARGON2_OPTIONS } from '../../src/security/passwords.js';
import { matchTotpStep } from '../../src/security/totp.js';

/** What the bench hands over in REFERENCE_SEED (a JSON file): the same accounts and client it drives. */
export interface ReferenceSeed {
  password: string;
  sysadmins: { username: string; secret: string; lastStep: number }[];
  users: { username: string }[];
  webClient: { clientId: string; clientSecret: string; redirectUri: string };
  serviceClient: { clientId: string; clientSecret: string };
}

const port = Number(process.env['PORT']);
const issuer = `http://127.0.0.1:${port}`;
const seed = JSON.parse(readFileSync(process.env['REFERENCE_SEED']!, 'utf8')) as ReferenceSeed;
// One hash for every account, as the bench seeds Twofold: verifying costs the same whatever the salt.
const passwordHash = await hash(seed.password, ARGON2_OPTIONS);
const accounts = new Map<string, { secret?: string; lastStep: number }>([
  ...seed.sysadmins.map((a) => [a.username, { secret: a.secret, lastStep: a.lastStep }] as const),
  ...seed.users.map((u) => [u.username, { lastStep: 0 }] as const),
]);
// The password step's result, per interaction, until the code.
const passed = new Map<string, string>();

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const provider = new Provider(issuer, {
  clients: [{
    client_id: seed.webClient.clientId,
    client_secret: seed.webClient.clientSecret,
    redirect_uris: [seed.webClient.redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid profile email offline_access',
  }, {
    client_id: seed.serviceClient.clientId,
    client_secret: seed.serviceClient.clientSecret,
    redirect_uris: [],
    response_types: [],
    grant_types: ['client_credentials'],
    scope: 'openid',
  }],
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'reference', alg: 'RS256', use: 'sig' }] },
  cookies: { keys: ['reference cookie key, not a secret'] },
  pkce: { required: () => true },
  acrValues: ['urn:twofold:loa:1', 'urn:twofold:loa:3'],
  // acr and amr in every ID token, as Twofold sends them.
  claims: { acr: null, amr: null, openid: ['sub', 'acr', 'amr', 'auth_time'], profile: ['name', 'preferred_username'], email: ['email'] },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  // As Twofold: every use of a refresh token rotates it.
  rotateRefreshToken: true,
  features: { devInteractions: { enabled: false }, clientCredentials: { enabled: true } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  // First-party: every scope asked for is granted without a consent page, as Twofold does for first-party clients.
  async loadExistingGrant(ctx: KoaContextWithOIDC) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
    grant.addOIDCScope(String(ctx.oidc.params!['scope'] ?? 'openid'));
    await grant.save();
    return grant;
  },
  async findAccount(_ctx, sub) {
    return { accountId: sub, claims: () => ({ sub, name: `Bench ${sub}`, preferred_username: sub, email: `${sub}@example.com` }) };
  },
});

async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

const page = (uid: string, step: 'login' | 'totp') => step === 'login'
  ? `<!DOCTYPE html><title>Log in</title><form method="post" action="/interaction/${uid}/login"><input name="username"><input name="password" type="password"><button>Next</button></form>`
  : `<!DOCTYPE html><title>Two-factor authentication</title><form method="post" action="/interaction/${uid}/totp"><input name="code"><button>Next</button></form>`;

provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([^/]+)(?:\/(login|totp))?$/.exec(ctx.path);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const uid = details.uid;
  if (match[1] !== uid) ctx.throw(400, 'interaction mismatch');
  const finish = (accountId: string, acr: string, amr: string[]) =>
    provider.interactionFinished(ctx.req, ctx.res, { login: { accountId, acr, amr } }, { mergeWithLastSubmission: false });
  // prompt=consent (asked for with offline_access): granted at once, as Twofold does for a first-party client.
  if (details.prompt.name === 'consent') {
    const grant = new provider.Grant({ clientId: String(details.params['client_id']), accountId: details.session!.accountId });
    grant.addOIDCScope(String(details.params['scope']));
    const grantId = await grant.save();
    return provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (ctx.method === 'GET' && !match[2]) {
    ctx.type = 'html';
    ctx.body = page(uid, passed.has(uid) ? 'totp' : 'login');
    return;
  }
  const form = await formOf(ctx.req);
  if (match[2] === 'login') {
    const username = form.get('username') ?? '';
    const account = accounts.get(username);
    if (!account || !(await verify(passwordHash, form.get('password') ?? ''))) return ctx.throw(401, 'wrong username or password');
    if (!account.secret) return finish(username, 'urn:twofold:loa:1', ['pwd']);
    passed.set(uid, username);
    ctx.status = 303;
    ctx.redirect(`/interaction/${uid}`);
    return;
  }
  const username = passed.get(uid);
  const account = username === undefined ? undefined : accounts.get(username);
  const step = account?.secret ? matchTotpStep(account.secret, form.get('code') ?? '') : undefined;
  // The replay guard: a step is accepted once, and never an earlier one.
  if (!account || step === undefined || step <= account.lastStep) return ctx.throw(401, 'wrong code');
  account.lastStep = step;
  passed.delete(uid);
  return finish(username!, 'urn:twofold:loa:3', ['pwd', 'otp', 'mfa']);
});

provider.listen(port, '127.0.0.1', () => process.stdout.write('reference ready\n'));
// A normal exit on SIGINT, so that a --cpu-prof profile of the baseline is written.
process.on('SIGINT', () => process.exit(0));
