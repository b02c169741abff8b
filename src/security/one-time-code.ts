// One-time codes sent by email: 6 digits from a CSPRNG, stored only as an HMAC, compared in constant time.
import { createHmac, hkdfSync, randomInt, timingSafeEqual } from 'node:crypto';

export interface OneTimeCodes {
  /** A new 6-digit code (leading zeros kept). */
  generate(): string;
  /** The stored form of a code, bound to `context` (the login it belongs to). */
  hash(code: string, context: string): string;
  /** Whether `code` is the one `hash` was made from, for the same context; constant time. */
  matches(hash: string, code: string, context: string): boolean;
}

/** Creates the code helper; the HMAC key is derived from SECRET_KEY, so a leaked Redis dump cannot be brute-forced offline. */
export function createOneTimeCodes(secretKey: Buffer): OneTimeCodes {
  const key = Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), 'twofold one-time codes', 32));
  const hash = (code: string, context: string) => createHmac('sha256', key).update(`${context}\n${code}`).digest('base64url');
  return {
    generate: () => String(randomInt(0, 1_000_000)).padStart(6, '0'),
    hash,
    matches(stored, code, context) {
      const a = Buffer.from(stored);
      const b = Buffer.from(hash(code, context));
      return a.length === b.length && timingSafeEqual(a, b);
    },
  };
}

/** Shows an address as a***@example.com, so a page confirms where a code went without spelling it out. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***${email.slice(at)}`;
}
