// Initial access tokens for dynamic client registration: random, expiring, single use, stored hashed, revocable.
import type Provider from 'oidc-provider';
import { hashedModelId } from '../storage/hashed-model-id.js';
import { REFERENCE_LENGTH } from '../storage/initial-access-tokens.js';
import type { InitialAccessTokenRecord, IssuedVia, Queries } from '../storage/queries.js';
import type { ShortLivedStore } from '../storage/short-lived/short-lived-store.js';
import { REGISTRATION_POLICY } from './check-registration-metadata.js';

/** The lifetimes an administrator can choose, in seconds. */
export const IAT_EXPIRIES = { '1h': 3_600, '24h': 86_400, '7d': 604_800 } as const;
export type IatExpiry = keyof typeof IAT_EXPIRIES;

/** How far back the console and the CLI list tokens: longer than the longest lifetime, so every live one shows. */
export const IAT_LIST_DAYS = 30;

/** The start of what the console and the CLI list: IAT_LIST_DAYS ago. */
export function listedSince(now: number = Date.now()): Date {
  return new Date(now - IAT_LIST_DAYS * 86_400_000);
}

/** Whether a value names one of the lifetimes. */
export function isIatExpiry(value: unknown): value is IatExpiry {
  return typeof value === 'string' && Object.hasOwn(IAT_EXPIRIES, value);
}

export interface IssuedToken {
  /** The token, to be shown once. */
  token: string;
  expiresAt: Date;
  /** What the audit log, the console and the CLI name it by instead of the token. */
  reference: string;
}

/**
 * Creates an initial access token in the provider's store (256 random bits; the store keeps only its hash) and
 * records it in the register. It carries Twofold's registration policy, which validates the client and makes the
 * token single use. A token the register could not record is removed again: every token that works is listed.
 * The register forgets tokens older than it lists first, so it holds only what the console and the CLI can show.
 */
export async function issueInitialAccessToken(
  deps: { provider: Provider; queries: Pick<Queries, 'initialAccessTokens'> },
  expiry: IatExpiry,
  by: { accountId: string | null; via: IssuedVia },
): Promise<IssuedToken> {
  const expiresIn = IAT_EXPIRIES[expiry];
  await deps.queries.initialAccessTokens.forgetIssuedBefore(listedSince());
  const model = new deps.provider.InitialAccessToken({ expiresIn, policies: [REGISTRATION_POLICY] });
  const token = await model.save();
  const expiresAt = new Date(Date.now() + expiresIn * 1000);
  try {
    await deps.queries.initialAccessTokens.record({ id: hashedModelId(token), expiresAt, issuedBy: by.accountId, via: by.via });
  } catch (err) {
    await model.destroy().catch(() => undefined);
    throw err;
  }
  return { token, expiresAt, reference: tokenReference(token) };
}

/** A reference to a token: the first 12 characters of its SHA-256 (the store's key), which cannot be used as the token. */
export function tokenReference(token: string): string {
  return hashedModelId(token).slice(0, REFERENCE_LENGTH);
}

/** The form of a reference: 12 base64url characters. */
export const TOKEN_REFERENCE_FORM = new RegExp(`^[A-Za-z0-9_-]{${REFERENCE_LENGTH}}$`);

/** Whether a value has the form of a reference (12 base64url characters). */
export function isTokenReference(value: unknown): value is string {
  return typeof value === 'string' && TOKEN_REFERENCE_FORM.test(value);
}

export type RevokeTokenResult =
  | { status: 'REVOKED'; token: InitialAccessTokenRecord }
  /** Used, expired or revoked already: there is nothing left to revoke. */
  | { status: 'NOT_ACTIVE'; token: InitialAccessTokenRecord }
  | { status: 'NOT_FOUND' };

/**
 * Revokes a token that was not used yet: it is removed from the store first, so it stops working even if the
 * register cannot be updated after it (a second revoke then finishes the job).
 */
export async function revokeInitialAccessToken(
  deps: { queries: Pick<Queries, 'initialAccessTokens'>; store: Pick<ShortLivedStore, 'destroyModel'> },
  reference: string,
  revokedBy: string | null,
): Promise<RevokeTokenResult> {
  if (!isTokenReference(reference)) return { status: 'NOT_FOUND' };
  const token = await deps.queries.initialAccessTokens.findByReference(reference);
  if (!token) return { status: 'NOT_FOUND' };
  if (token.status !== 'active') return { status: 'NOT_ACTIVE', token };
  await deps.store.destroyModel('InitialAccessToken', token.id);
  await deps.queries.initialAccessTokens.markRevoked(token.id, revokedBy);
  return { status: 'REVOKED', token: { ...token, status: 'revoked', revokedAt: new Date() } };
}
