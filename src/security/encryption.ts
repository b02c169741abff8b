// Encryption at rest: AES-256-GCM under a key kept outside the database, bound to a context string.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/** Encrypts and decrypts small secrets (client secrets, signing keys, TOTP seeds) for storage. */
export interface Cipher {
  /** Encrypts `plaintext`; `context` (e.g. the row's id) must be given again to decrypt. */
  encrypt(plaintext: string, context: string): string;
  /** Decrypts a value from `encrypt`; throws when the key, context or ciphertext do not match. */
  decrypt(sealed: string, context: string): string;
}

/** Creates a Cipher from the 32-byte SECRET_KEY; `purpose` derives an independent sub-key per use. */
export function createCipher(secretKey: Buffer, purpose = 'storage'): Cipher {
  if (secretKey.length !== 32) throw new Error('secret key must be 32 bytes');
  // A sub-key per purpose, so a ciphertext of one kind can never be replayed as another kind.
  const key = Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), `twofold ${purpose}`, 32));
  return {
    encrypt(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      // The context is authenticated data: a ciphertext copied to another row fails to decrypt.
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    },
    decrypt(sealed, context) {
      const [version, iv, body, tag] = sealed.split('.');
      if (version !== VERSION || !iv || body === undefined || !tag) throw new Error('not an encrypted value');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
