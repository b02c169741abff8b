// Client secrets at rest: a keyed hash, never the secret. A copy of the database neither reveals a secret nor lets
// anyone test a guess offline without SECRET_KEY as well.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

const PREFIX = 'hmac-sha256.';
const DIGEST_BYTES = 32;

export interface ClientSecretHasher {
  /** The stored form of `secret` for `clientId`. */
  hash(clientId: string, secret: string): string;
  /** Whether `presented` is the secret whose stored form is `stored`, compared in constant time. */
  verify(clientId: string, presented: unknown, stored: string): boolean;
}

/** Whether a value is a stored form from `hash` (a generated secret is base64url and never contains a dot). */
export function isSecretHash(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

/**
 * Creates the hasher from the 32-byte SECRET_KEY. HMAC-SHA-256 and not a password hash: every secret is 32 random
 * bytes (OIDC Core §16.19), so there is nothing to guess and a slow hash would only slow every token request.
 */
export function createClientSecretHasher(secretKey: Buffer): ClientSecretHasher {
  if (secretKey.length !== 32) throw new Error('secret key must be 32 bytes');
  const key = Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), 'twofold client-secret', 32));
  // The client_id is part of the message, so a stored form copied to another client's row does not verify; its
  // length goes first, so no client_id and secret pair reads as another.
  const digest = (clientId: string, secret: string) => {
    const id = Buffer.from(clientId, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(id.length);
    return createHmac('sha256', key).update(length).update(id).update(secret, 'utf8').digest();
  };
  return {
    hash(clientId, secret) {
      return PREFIX + digest(clientId, secret).toString('base64url');
    },
    verify(clientId, presented, stored) {
      if (typeof presented !== 'string' || !isSecretHash(stored)) return false;
      const expected = Buffer.from(stored.slice(PREFIX.length), 'base64url');
      // A timing difference must not tell how much of a guess was right.
      return expected.length === DIGEST_BYTES && timingSafeEqual(digest(clientId, presented), expected);
    },
  };
}
