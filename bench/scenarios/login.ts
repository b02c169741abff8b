// Scenarios 1 and 2: a sysadmin's full login (password + TOTP) and a plain user's password login, as a browser and RP.
import { createHash, randomBytes } from 'node:crypto';
import { timeStepAt, totpCodeAt } from '../../src/security/totp.js';
import { Browser } from '../browser.js';
import { PASSWORD, REDIRECT_URI, type SeededUser } from '../seed.js';
import { checkIdToken, tokenRequest, type BenchContext, type Scenario, type TokenResponse } from './context.js';

let nextSysadmin = 0;
let nextUser = 0;

/** The next sysadmin who has not logged in during the current TOTP step (the replay guard allows one per step). */
export async function takeSysadmin(pool: SeededUser[]): Promise<{ user: SeededUser; code: string }> {
  for (;;) {
    const now = Date.now();
    const step = timeStepAt(now);
    for (let tried = 0; tried < pool.length; tried++) {
      const user = pool[nextSysadmin++ % pool.length]!;
      if (user.lastStep < step) {
        user.lastStep = step;
        return { user, code: totpCodeAt(user.secret!, now) };
      }
    }
    // Every sysadmin has logged in during this step: wait for the next one (seed more to avoid this).
    await new Promise((resolve) => setTimeout(resolve, (step + 1) * 30_000 - now + 10));
  }
}

/** The code of the first TOTP step `user` has not logged in with yet, waiting for the next step if needed. */
export async function claimNextCode(user: SeededUser): Promise<string> {
  for (;;) {
    const now = Date.now();
    const step = timeStepAt(now);
    if (user.lastStep < step) {
      user.lastStep = step;
      return totpCodeAt(user.secret!, now);
    }
    await new Promise((resolve) => setTimeout(resolve, (step + 1) * 30_000 - now + 10));
  }
}

/** Signs one account in through /auth, the login page and, with `code`, the code page; returns the tokens. */
export async function signIn(ctx: BenchContext, username: string, code: string | undefined, params: Record<string, string> = {}): Promise<TokenResponse> {
  const browser = new Browser(ctx.requestTimeoutMs);
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');
  const url = new URL(ctx.metadata.authorization_endpoint);
  for (const [key, value] of Object.entries({
    client_id: ctx.seeded.webClient.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  })) url.searchParams.set(key, value);
  const atCallback = (location: string) => location.startsWith(REDIRECT_URI);
  const login = await browser.follow(url.href, {}, atCallback);
  let page = await browser.submit(login, '/login', { username, password: PASSWORD }, atCallback);
  if (code !== undefined) page = await browser.submit(page, '/totp', { code }, atCallback);
  if (!page.stoppedAt) throw new Error(`login of ${username} did not reach the client; ended on ${page.url} (${page.status}): ${page.html.replace(/\s+/g, ' ').slice(0, 300)}`);
  const callback = new URL(page.stoppedAt);
  const refused = callback.searchParams.get('error');
  if (refused) throw new Error(`the client got error=${refused} (${callback.searchParams.get('error_description') ?? ''})`);
  if (callback.searchParams.get('state') !== state) throw new Error(`callback state mismatch: ${page.stoppedAt}`);
  const authorizationCode = callback.searchParams.get('code');
  if (!authorizationCode) throw new Error(`callback without a code: ${page.stoppedAt}`);
  const tokens = await tokenRequest(ctx, ctx.seeded.webClient, { grant_type: 'authorization_code', code: authorizationCode, redirect_uri: REDIRECT_URI, code_verifier: verifier });
  await checkIdToken(ctx, tokens.id_token, code !== undefined ? { nonce, acr: 'urn:twofold:loa:3', amr: 'otp' } : { nonce, acr: 'urn:twofold:loa:1', amr: 'pwd' });
  return tokens;
}

/** The next plain user, round robin. */
export function takeUser(ctx: BenchContext): SeededUser {
  const users = ctx.seeded.users;
  return users[nextUser++ % users.length]!;
}

export const fullLogin: Scenario = {
  name: 'full sysadmin login (password + TOTP)',
  async prepare(ctx) {
    return async () => {
      const { user, code } = await takeSysadmin(ctx.seeded.sysadmins);
      await signIn(ctx, user.username, code);
    };
  },
};

export const passwordLogin: Scenario = {
  name: 'password-only login',
  async prepare(ctx) {
    return async () => {
      await signIn(ctx, takeUser(ctx).username, undefined);
    };
  },
};
