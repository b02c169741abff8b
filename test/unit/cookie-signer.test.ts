// The cookie signer: the same signatures as keygrip (so cookies signed before stay valid), key rotation, and refusals.
import { expect } from 'chai';
import Keygrip from 'keygrip';
import { createCookieSigner } from '../../src/http/cookie-signer.js';

describe('cookie signer', function () {
  const keys = ['new-key-0123456789abcdef', 'old-key-0123456789abcdef'];
  const signer = createCookieSigner(keys);
  const keygrip = new Keygrip(keys);

  it('signs as keygrip does, with the first key', function () {
    for (const data of ['_session=abc', 'twofold.csrf=7zsTVoouiw9T0eC5xrNzEBLC', '', 'ünïcode=✓']) {
      expect(signer.sign(data)).to.equal(keygrip.sign(data));
    }
  });

  it('accepts a signature of any of its keys and tells which one', function () {
    const data = '_interaction=krJBJGJszCq';
    expect(signer.index(data, keygrip.sign(data))).to.equal(0);
    expect(signer.index(data, new Keygrip([keys[1]!]).sign(data))).to.equal(1);
    expect(signer.verify(data, new Keygrip([keys[1]!]).sign(data))).to.equal(true);
  });

  it('refuses a signature of other data, of an unknown key, tampered with or of another length', function () {
    const data = '_session=abc';
    const good = signer.sign(data);
    const flipped = (good[0] === 'A' ? 'B' : 'A') + good.slice(1);
    for (const digest of [signer.sign('_session=abd'), new Keygrip(['a stranger']).sign(data), flipped, good.slice(1), `${good}=`, '', 'x']) {
      expect(signer.index(data, digest), digest).to.equal(-1);
      expect(signer.verify(data, digest), digest).to.equal(false);
    }
  });

  it('needs a key', function () {
    expect(() => createCookieSigner([])).to.throw(/at least one key/);
  });
});
