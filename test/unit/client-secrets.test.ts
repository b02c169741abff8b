// Client secrets at rest: a keyed hash that verifies the secret only, for its own client, under its own server key.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { createClientSecretHasher, isSecretHash } from '../../src/security/client-secrets.js';
import { generateClientSecret } from '../../src/clients/register-client.js';

describe('client secrets at rest', function () {
  const key = randomBytes(32);
  const hasher = createClientSecretHasher(key);
  const secret = generateClientSecret();

  it('stores hmac-sha256.<43 base64url characters>, the same for the same secret, never containing the secret', function () {
    const stored = hasher.hash('app', secret);
    expect(stored).to.match(/^hmac-sha256\.[\w-]{43}$/);
    expect(stored).not.to.contain(secret);
    expect(hasher.hash('app', secret)).to.equal(stored);
    expect(isSecretHash(stored)).to.equal(true);
    // A generated secret is base64url: it can never be mistaken for a stored form.
    expect(isSecretHash(secret)).to.equal(false);
  });

  it('verifies the secret, and nothing else: not a near miss, the stored form itself, or a non-string', function () {
    const stored = hasher.hash('app', secret);
    expect(hasher.verify('app', secret, stored)).to.equal(true);
    for (const wrong of [`${secret}x`, secret.slice(0, -1), '', stored, secret.toUpperCase(), undefined, null, 42, [secret]]) {
      expect(hasher.verify('app', wrong, stored), String(wrong)).to.equal(false);
    }
  });

  it('binds the stored form to its client and to the server key', function () {
    const stored = hasher.hash('app', secret);
    expect(hasher.verify('other-app', secret, stored)).to.equal(false);
    expect(createClientSecretHasher(randomBytes(32)).verify('app', secret, stored)).to.equal(false);
    expect(createClientSecretHasher(Buffer.from(key)).verify('app', secret, stored)).to.equal(true);
    // No ambiguity in where the client_id ends: "a" + "b\0c" is not "a\0b" + "c".
    expect(hasher.hash('a', 'b\0c')).not.to.equal(hasher.hash('a\0b', 'c'));
  });

  it('refuses malformed stored values instead of throwing', function () {
    for (const stored of ['', 'hmac-sha256.', 'hmac-sha256.abc', `v1.${'A'.repeat(43)}`, `hmac-sha256.${'A'.repeat(44)}`]) {
      expect(hasher.verify('app', secret, stored), stored).to.equal(false);
    }
  });

  it('needs a 32-byte key', function () {
    expect(() => createClientSecretHasher(randomBytes(16))).to.throw('secret key must be 32 bytes');
  });
});
