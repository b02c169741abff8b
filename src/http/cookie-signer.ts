// Signs and checks the .sig of signed cookies exactly as keygrip does (HMAC-SHA1, base64url, first key signs),
// comparing with Node's timingSafeEqual: keygrip's comparison draws random bytes and computes two more HMACs
// for every cookie read, several times per request.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What Koa's cookies and oidc-provider call on `keys` (keygrip's interface). */
export interface CookieSigner {
  sign(data: unknown): string;
  verify(data: unknown, digest: string): boolean;
  /** The index of the key that made `digest`, or -1. */
  index(data: unknown, digest: string): number;
}

/** A keygrip-compatible signer for Koa's and oidc-provider's cookies (`cookies.keys`); the first key signs. */
export function createCookieSigner(keys: readonly string[]): CookieSigner {
  if (keys.length === 0) throw new Error('cookie signing needs at least one key');
  const sign = (data: unknown, key: string) => createHmac('sha1', key).update(String(data)).digest('base64url');
  const index = (data: unknown, digest: string) => {
    const given = Buffer.from(String(digest));
    for (let i = 0; i < keys.length; i++) {
      const expected = Buffer.from(sign(data, keys[i]!));
      // The length is no secret (every signature has 27 characters); the content is compared in constant time.
      if (given.length === expected.length && timingSafeEqual(given, expected)) return i;
    }
    return -1;
  };
  return {
    sign: (data) => sign(data, keys[0]!),
    verify: (data, digest) => index(data, digest) > -1,
    index,
  };
}
