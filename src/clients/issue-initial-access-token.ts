// Issues initial access tokens for dynamic client registration: random, expiring, single use, stored hashed.
import { createHash } from 'node:crypto';
import type Provider from 'oidc-provider';
import { REGISTRATION_POLICY } from './check-registration-metadata.js';

/** The lifetimes an administrator can choose, in seconds. */
export const IAT_EXPIRIES = { '1h': 3_600, '24h': 86_400, '7d': 604_800 } as const;
export type IatExpiry = keyof typeof IAT_EXPIRIES;

/** Whether a value names one of the lifetimes. */
export function isIatExpiry(value: unknown): value is IatExpiry {
  return typeof value === 'string' && Object.hasOwn(IAT_EXPIRIES, value);
}

export interface IssuedToken {
  /** The token, to be shown once. */
  token: string;
  expiresAt: Date;
  /** What the audit log keeps instead of the token. */
  reference: string;
}

/**
 * Creates an initial access token in the provider's store (256 random bits; the store keeps only its hash).
 * It carries Twofold's registration policy, which validates the client and makes the token single use.
 */
export async function issueInitialAccessToken(provider: Provider, expiry: IatExpiry): Promise<IssuedToken> {
  const expiresIn = IAT_EXPIRIES[expiry];
  const token = await new provider.InitialAccessToken({ expiresIn, policies: [REGISTRATION_POLICY] }).save();
  return { token, expiresAt: new Date(Date.now() + expiresIn * 1000), reference: tokenReference(token) };
}

/** A reference to a token for the audit log: 12 characters of its SHA-256, which cannot be used as the token. */
export function tokenReference(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 12);
}
