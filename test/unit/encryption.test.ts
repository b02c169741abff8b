// Encryption at rest: round trip, and every mismatch (context, ciphertext, key, purpose) fails to decrypt.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { createCipher } from '../../src/security/encryption.js';

/** Replaces one character of a base64url string with another valid one, so only the content changes. */
function flipChar(value: string, index: number): string {
  const char = value[index]!;
  return value.slice(0, index) + (char === 'A' ? 'B' : 'A') + value.slice(index + 1);
}

describe('encryption at rest', function () {
  const key = randomBytes(32);
  const cipher = createCipher(key);

  it('round-trips text, including empty and non-ASCII text', function () {
    for (const plaintext of ['JBSWY3DPEHPK3PXP', '', 'pässwörd ✓ 秘密', 'x'.repeat(10_000)]) {
      const sealed = cipher.encrypt(plaintext, 'account:42');
      expect(sealed).not.to.contain(plaintext || '\u0000');
      expect(cipher.decrypt(sealed, 'account:42')).to.equal(plaintext);
    }
  });

  it('writes a versioned value, v1.<iv>.<ciphertext>.<tag>, with a fresh IV each time', function () {
    const a = cipher.encrypt('same secret', 'ctx');
    const b = cipher.encrypt('same secret', 'ctx');
    expect(a).to.match(/^v1\.[\w-]{16}\.[\w-]+\.[\w-]{22}$/);
    expect(a, 'same plaintext, different ciphertexts').not.to.equal(b);
    expect(a.split('.')[1]).not.to.equal(b.split('.')[1]);
  });

  it('fails with the wrong context: a value copied to another row does not decrypt', function () {
    const sealed = cipher.encrypt('totp seed', 'account:42');
    expect(() => cipher.decrypt(sealed, 'account:43')).to.throw();
    expect(() => cipher.decrypt(sealed, '')).to.throw();
    expect(cipher.decrypt(sealed, 'account:42')).to.equal('totp seed');
  });

  it('fails when any part of the value was tampered with', function () {
    const sealed = cipher.encrypt('client secret', 'client:app');
    const [version, iv, body, tag] = sealed.split('.') as [string, string, string, string];
    const tampered = [
      [version, flipChar(iv, 3), body, tag],
      [version, iv, flipChar(body, 2), tag],
      [version, iv, body, flipChar(tag, 5)],
      [version, iv, body.slice(0, -2), tag],
      [version, iv, body, tag.slice(0, 10)],
      [version, iv, `${body}AA`, tag],
    ];
    for (const parts of tampered) {
      expect(() => cipher.decrypt(parts.join('.'), 'client:app'), parts.join('.')).to.throw();
    }
  });

  it('refuses values that are not its own format', function () {
    const sealed = cipher.encrypt('secret', 'ctx');
    for (const bad of ['', 'secret', sealed.replace(/^v1/, 'v2'), sealed.split('.').slice(0, 3).join('.')]) {
      expect(() => cipher.decrypt(bad, 'ctx'), bad).to.throw();
    }
  });

  it('fails under another key', function () {
    const sealed = cipher.encrypt('signing key', 'jwks');
    const other = createCipher(randomBytes(32));
    expect(() => other.decrypt(sealed, 'jwks')).to.throw();
    // The same key bytes, given again (e.g. after a restart), decrypt it.
    expect(createCipher(Buffer.from(key)).decrypt(sealed, 'jwks')).to.equal('signing key');
  });

  it('derives an independent key per purpose: ciphertexts differ and do not cross-decrypt', function () {
    const storage = createCipher(key, 'storage');
    const cookies = createCipher(key, 'cookies');
    const fromStorage = storage.encrypt('secret', 'ctx');
    const fromCookies = cookies.encrypt('secret', 'ctx');
    expect(fromStorage).not.to.equal(fromCookies);
    expect(() => cookies.decrypt(fromStorage, 'ctx')).to.throw();
    expect(() => storage.decrypt(fromCookies, 'ctx')).to.throw();
    expect(storage.decrypt(fromStorage, 'ctx')).to.equal('secret');
    expect(cookies.decrypt(fromCookies, 'ctx')).to.equal('secret');
    // The default purpose is 'storage'.
    expect(cipher.decrypt(fromStorage, 'ctx')).to.equal('secret');
  });

  it('does not use the secret key itself as the AES key', async function () {
    // Under HKDF, a cipher built straight from SECRET_KEY (no derivation) must not decrypt our values.
    const { createDecipheriv } = await import('node:crypto');
    const [, iv, body, tag] = cipher.encrypt('secret', 'ctx').split('.') as [string, string, string, string];
    const raw = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    raw.setAAD(Buffer.from('ctx'));
    raw.setAuthTag(Buffer.from(tag, 'base64url'));
    expect(() => Buffer.concat([raw.update(Buffer.from(body, 'base64url')), raw.final()])).to.throw();
  });

  it('refuses a key that is not 32 bytes', function () {
    expect(() => createCipher(randomBytes(16))).to.throw('secret key must be 32 bytes');
    expect(() => createCipher(randomBytes(64))).to.throw('secret key must be 32 bytes');
  });
});
