// Passwords: argon2id hashes with OWASP parameters, verification, NFKC normalisation and the new-password policy.
import { expect } from 'chai';
import { dictionary } from '@zxcvbn-ts/language-common';
import { checkNewPassword, hashPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, verifyPassword } from '../../src/security/passwords.js';

describe('passwords', function () {
  this.timeout(20_000);
  let hash: string;

  before(async function () {
    hash = await hashPassword('correct horse battery');
  });

  describe('hashing', function () {
    it('uses argon2id with m=19456, t=2, p=1 and a 128-bit salt, all recorded in the hash', function () {
      const [, algorithm, version, params, salt, digest] = hash.split('$');
      expect(algorithm).to.equal('argon2id');
      expect(version).to.equal('v=19');
      expect(params).to.equal('m=19456,t=2,p=1');
      expect(Buffer.from(salt!, 'base64')).to.have.length(16);
      expect(Buffer.from(digest!, 'base64')).to.have.length(32);
    });

    it('salts every hash', async function () {
      expect(await hashPassword('correct horse battery')).not.to.equal(hash);
    });
  });

  describe('verifying', function () {
    it('accepts the right password and refuses a wrong one', async function () {
      expect(await verifyPassword(hash, 'correct horse battery')).to.equal(true);
      expect(await verifyPassword(hash, 'correct horse battery ')).to.equal(false);
      expect(await verifyPassword(hash, 'Correct horse battery')).to.equal(false);
      expect(await verifyPassword(hash, '')).to.equal(false);
    });

    it('returns false for an unknown user (no hash), even for the password behind the dummy hash', async function () {
      expect(await verifyPassword(undefined, 'correct horse battery')).to.equal(false);
      expect(await verifyPassword(undefined, 'twofold dummy password for timing')).to.equal(false);
    });

    it('returns false, without throwing, for a stored hash it cannot read', async function () {
      expect(await verifyPassword('not a hash', 'correct horse battery')).to.equal(false);
      expect(await verifyPassword('$2b$10$abcdefghijklmnopqrstuu5Q1ZB7zXK4n8bK7zV9s7Jb3u8lQ3Wm.', 'x')).to.equal(false);
    });

    it('normalises with NFKC: composed and decomposed accents, and fullwidth letters, verify', async function () {
      const composed = 'Cr\u00e8me br\u00fbl\u00e9e 42';
      const decomposed = 'Cre\u0300me bru\u0302le\u0301e 42';
      expect(composed).not.to.equal(decomposed);
      const accented = await hashPassword(composed);
      expect(await verifyPassword(accented, decomposed)).to.equal(true);
      expect(await verifyPassword(await hashPassword(decomposed), composed)).to.equal(true);
      // Fullwidth forms (an East Asian keyboard) are compatibility-equivalent to ASCII under NFKC.
      expect(await verifyPassword(hash, '\uff43\uff4f\uff52\uff52\uff45\uff43\uff54 horse battery')).to.equal(true);
      expect(await verifyPassword(accented, 'Creme brulee 42'), 'accents still count').to.equal(false);
    });

    it('refuses an over-long password without running argon2', async function () {
      const long = 'a'.repeat(PASSWORD_MAX_LENGTH + 1);
      const longHash = await hashPassword(long);
      await verifyPassword(undefined, 'warm-up'); // the dummy hash is made once, on first use

      let started = process.hrtime.bigint();
      expect(await verifyPassword(longHash, long), 'even the right over-long password').to.equal(false);
      const refusedMs = Number(process.hrtime.bigint() - started) / 1e6;
      started = process.hrtime.bigint();
      expect(await verifyPassword(longHash, 'a'.repeat(PASSWORD_MAX_LENGTH))).to.equal(false);
      const verifiedMs = Number(process.hrtime.bigint() - started) / 1e6;
      // argon2 with 19 MiB takes tens of milliseconds; the refusal is a length check.
      expect(refusedMs, `refused in ${refusedMs} ms vs ${verifiedMs} ms for a verification`).to.be.below(Math.min(5, verifiedMs / 2));

      const longest = 'b'.repeat(PASSWORD_MAX_LENGTH);
      expect(await verifyPassword(await hashPassword(longest), longest), 'the maximum length itself verifies').to.equal(true);
    });
  });

  describe('the policy for new passwords', function () {
    it('refuses passwords shorter than 8 characters, counting code points', async function () {
      expect(PASSWORD_MIN_LENGTH).to.equal(8);
      expect(await checkNewPassword('x7#kQ2!', { username: 'alice' })).to.deep.include({ ok: false, problem: 'TOO_SHORT' });
      expect(await checkNewPassword('x7#kQ2!m', { username: 'alice' })).to.deep.equal({ ok: true });
      // Seven emoji are 14 UTF-16 units but only 7 characters.
      expect(await checkNewPassword('\u{1F511}'.repeat(7), { username: 'alice' })).to.deep.include({ ok: false, problem: 'TOO_SHORT' });
      expect(await checkNewPassword('\u{1F511}'.repeat(8), { username: 'alice' })).to.deep.equal({ ok: true });
    });

    it('refuses passwords longer than the maximum', async function () {
      expect(await checkNewPassword('k'.repeat(PASSWORD_MAX_LENGTH + 1), { username: 'alice' })).to.deep.include({ ok: false, problem: 'TOO_LONG' });
    });

    it('refuses common passwords, whatever their case', async function () {
      const common = dictionary['passwords-common'];
      for (const password of ['iloveyou123', 'password1', 'qwertyuiop']) {
        expect(common, `${password} is on the list`).to.include(password);
        const result = await checkNewPassword(password, { username: 'alice' });
        expect(result, password).to.deep.include({ ok: false, problem: 'COMMON' });
        expect(await checkNewPassword(password.toUpperCase(), { username: 'alice' }), password.toUpperCase()).to.deep.include({ problem: 'COMMON' });
      }
    });

    it('refuses passwords containing the username or "twofold"', async function () {
      expect(await checkNewPassword('Alice-in-2024!', { username: 'alice' })).to.deep.include({ ok: false, problem: 'CONTAINS_CONTEXT' });
      expect(await checkNewPassword('my TwoFold pass', { username: 'alice' })).to.deep.include({ ok: false, problem: 'CONTAINS_CONTEXT' });
      // Very short usernames would refuse too much; they are not checked.
      expect(await checkNewPassword('bob-the-builder', { username: 'bo' })).to.deep.equal({ ok: true });
    });

    it('accepts a long passphrase and explains each refusal in words', async function () {
      expect(await checkNewPassword('correct horse battery staple', { username: 'alice' })).to.deep.equal({ ok: true });
      const refused = await checkNewPassword('short', { username: 'alice' });
      expect(refused.ok).to.equal(false);
      if (!refused.ok) expect(refused.message).to.contain('at least 8 characters');
    });

    it('only accepts passwords that will verify later', async function () {
      // 130 emoji: within the policy's 256 characters, but 260 UTF-16 units.
      const emoji = '\u{1F510}'.repeat(130);
      expect(await checkNewPassword(emoji, { username: 'alice' })).to.deep.equal({ ok: true });
      expect(await verifyPassword(await hashPassword(emoji), emoji)).to.equal(true);
    });
  });
});
