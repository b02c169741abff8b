// Signing keys and cookie keys: generated on first start, stored encrypted in Postgres, shared by every instance.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import type { JWK } from 'oidc-provider';
import type { Queries } from '../storage/queries.js';

export interface ProviderKeys {
  jwks: { keys: JWK[] };
  cookieKeys: string[];
}

function createJwks(): { keys: JWK[] } {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return {
    keys: [
      { ...rsa, kid: randomUUID(), alg: 'RS256', use: 'sig' } as JWK,
      { ...ec, kid: randomUUID(), alg: 'ES256', use: 'sig' } as JWK,
    ],
  };
}

/** Loads the provider's keys, creating them once (every instance and restart then signs with the same keys). */
export async function loadProviderKeys(queries: Pick<Queries, 'providerKeys'>): Promise<ProviderKeys> {
  const jwks = await queries.providerKeys.loadOrCreate('jwks', createJwks);
  // Never empty: unsigned cookies would let a client forge its session and interaction ids.
  const cookieKeys = await queries.providerKeys.loadOrCreate('cookie-keys', () => [randomBytes(32).toString('base64url')]);
  return { jwks, cookieKeys };
}
