// Who is signed in to the settings pages: the Twofold session (oidc-provider's) and its account.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { acrRank, ACR_PASSWORD_EMAIL } from '../oidc/acr.js';
import type { Account, Queries } from '../storage/queries.js';
import type { ShortLivedStore } from '../storage/short-lived/short-lived-store.js';

/** A second factor counts as recent for this long: Disconnect and an email change need one (ASVS 7.5.1). */
export const RECENT_SECOND_FACTOR_SECONDS = 10 * 60;

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

/** Whether this session passed a second factor (app or email code) in the last few minutes. */
export async function hasRecentSecondFactor(store: ShortLivedStore, signedIn: SignedIn, nowMs: number): Promise<boolean> {
  const now = Math.floor(nowMs / 1000);
  if (acrRank(signedIn.acr) >= acrRank(ACR_PASSWORD_EMAIL) && now - signedIn.loginTs <= RECENT_SECOND_FACTOR_SECONDS) return true;
  const reauth = await store.getJson<{ at: number }>(reauthKey(signedIn.sessionUid));
  return reauth !== undefined && now - reauth.at <= RECENT_SECOND_FACTOR_SECONDS;
}

/** Records that this session just passed a second factor again. */
export async function recordSecondFactor(store: ShortLivedStore, signedIn: SignedIn, nowMs: number, method: 'otp' | 'email'): Promise<void> {
  await store.setJson(reauthKey(signedIn.sessionUid), { at: Math.floor(nowMs / 1000), method }, RECENT_SECOND_FACTOR_SECONDS);
}
