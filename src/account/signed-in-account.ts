// Who is signed in to the settings pages: the Twofold session (oidc-provider's) and its account.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { acrRank, ACR_PASSWORD_EMAIL, ACR_PASSWORD_TOTP } from '../oidc/acr.js';
import type { Account, Queries } from '../storage/queries.js';
import type { ShortLivedStore } from '../storage/short-lived/short-lived-store.js';

/**
 * How long a full authentication (the password and a second factor) counts as recent: Disconnect, connecting a new
 * phone, an email change and the administration console's changes need one (ASVS 7.5.1, NIST SP 800-63B §4.6).
 */
export const RECENT_AUTHENTICATION_SECONDS = 10 * 60;

/** The audit log's `via` for the "Confirm it's you" re-check, to tell it from a login. */
export const REAUTH_VIA = 'confirm-it-is-you';

export interface SignedIn {
  sessionUid: string;
  account: Account;
  acr: string | undefined;
  amr: string[];
  /** Epoch seconds of the login. */
  loginTs: number;
  /** The grant this session holds for each client it signed in to, by client_id. */
  grantIds: Readonly<Record<string, string>>;
}

/** Returns the signed-in account, or undefined without a full Twofold session (there is no half-signed-in one). */
export async function loadSignedIn(provider: Provider, queries: Pick<Queries, 'accounts'>, ctx: Context): Promise<SignedIn | undefined> {
  const session = await provider.Session.get(ctx as never);
  if (!session.accountId) return undefined;
  const account = await queries.accounts.findById(session.accountId);
  if (!account || account.disabled) return undefined;
  const grantIds = Object.fromEntries(Object.entries(session.authorizations ?? {}).flatMap(([clientId, { grantId }]) => (grantId ? [[clientId, grantId]] : [])));
  return { sessionUid: session.uid, account, acr: session.acr, amr: session.amr ?? [], loginTs: session.loginTs ?? 0, grantIds };
}

const reauthKey = (sessionUid: string) => `reauth:${sessionUid}`;

/** The second factor a re-authentication passed with the password. */
export type ReauthMethod = 'otp' | 'email';

/**
 * Whether this session passed the password and a second factor in the last RECENT_AUTHENTICATION_SECONDS: at its
 * login, or since on "Confirm it's you". With `appCodeOnly`, an email code does not count (the administration
 * console asks for the authenticator app: the email code is a way back in, not a second authenticator).
 */
export async function isRecentlyAuthenticated(store: ShortLivedStore, signedIn: SignedIn, nowMs: number, options: { appCodeOnly?: boolean } = {}): Promise<boolean> {
  const now = Math.floor(nowMs / 1000);
  const minimum = options.appCodeOnly ? ACR_PASSWORD_TOTP : ACR_PASSWORD_EMAIL;
  if (acrRank(signedIn.acr) >= acrRank(minimum) && now - signedIn.loginTs <= RECENT_AUTHENTICATION_SECONDS) return true;
  const reauth = await store.getJson<{ at: number; method: ReauthMethod }>(reauthKey(signedIn.sessionUid));
  if (!reauth || now - reauth.at > RECENT_AUTHENTICATION_SECONDS) return false;
  return !options.appCodeOnly || reauth.method === 'otp';
}

/** Records that this session just passed the password and a second factor again. */
export async function recordReauthentication(store: ShortLivedStore, signedIn: SignedIn, nowMs: number, method: ReauthMethod): Promise<void> {
  await store.setJson(reauthKey(signedIn.sessionUid), { at: Math.floor(nowMs / 1000), method }, RECENT_AUTHENTICATION_SECONDS);
}

/** How the last re-authentication of this session passed its second factor, if it did. */
export async function lastReauthMethod(store: ShortLivedStore, signedIn: SignedIn): Promise<ReauthMethod | undefined> {
  return (await store.getJson<{ method: ReauthMethod }>(reauthKey(signedIn.sessionUid)))?.method;
}
