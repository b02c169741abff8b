// Signing keys and cookie keys: made on first start, stored encrypted in Postgres, shared by every node.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import type { JWK } from 'oidc-provider';
import type { Queries } from '../storage/queries.js';
import type { NewSigningKey, SigningKey } from '../storage/signing-keys.js';
import { missingAlgs, type SigningAlg } from './key-schedule.js';
import { createSigningKeyRing, type SigningKeyRing, type SigningKeyRingOptions } from './signing-key-ring.js';

export interface ProviderKeys {
  /** The signing keys, kept current from Postgres once a provider is attached. */
  signing: SigningKeyRing;
  cookieKeys: string[];
}

/** Makes a new private signing key of `alg` (RSA 2048 or P-256) that signs from `signFrom`. */
export function createSigningKey(alg: SigningAlg, signFrom: Date): NewSigningKey {
  const privateKey = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    : generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const kid = randomUUID();
  return { kid, alg, signFrom, jwk: { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } as JWK };
}

/**
 * The stored signing keys, after making one of each alg that has none (signing at once: no token exists yet that
 * another key could have signed). Nodes starting together all end with the same keys (see signingKeys.change).
 */
export async function ensureSigningKeys(queries: Pick<Queries, 'signingKeys'>, now = new Date()): Promise<SigningKey[]> {
  return queries.signingKeys.change((current) => {
    const add = missingAlgs(current).map((alg) => createSigningKey(alg, now));
    return { add, result: [...current, ...add.map((key) => ({ ...key, createdAt: now }))] };
  });
}

/** Loads the provider's keys, creating them once (every node and restart then signs with the same keys). */
export async function loadProviderKeys(queries: Pick<Queries, 'providerKeys' | 'signingKeys'>, options: SigningKeyRingOptions): Promise<ProviderKeys> {
  const signingKeys = await ensureSigningKeys(queries, new Date(options.now?.() ?? Date.now()));
  // Never empty: unsigned cookies would let a client forge its session and interaction ids.
  const cookieKeys = await queries.providerKeys.loadOrCreate('cookie-keys', () => [randomBytes(32).toString('base64url')]);
  return { signing: createSigningKeyRing(queries.signingKeys, signingKeys, options), cookieKeys };
}
