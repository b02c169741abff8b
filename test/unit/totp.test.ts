// TOTP against RFC 6238 Appendix B (SHA1), the ±1 step window, code normalisation and the otpauth URI.
import { expect } from 'chai';
import { createTotpSecret, groupSecret, matchTotpStep, normalizeTotpCode, timeStepAt, totpCodeAt, totpQrCode, totpUri } from '../../src/security/totp.js';
import { decodeQrPng } from '../helpers/chromium.js';

const RFC_SEED = new TextEncoder().encode('12345678901234567890');
// base32 of the same 20 ASCII bytes, as an authenticator app would hold it.
const RFC_SEED_BASE32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('TOTP (RFC 6238)', function () {
  const vectors: [number, string][] = [
    [59, '287082'],
    [1111111109, '081804'],
    [1111111111, '050471'],
    [1234567890, '005924'],
    [2000000000, '279037'],
    [20000000000, '353130'],
  ];

  it('produces the Appendix B SHA1 values (last six digits), past 2038 included', function () {
    for (const [seconds, code] of vectors) expect(totpCodeAt(RFC_SEED, seconds * 1000), String(seconds)).to.equal(code);
  });

  it('accepts each vector at its own time and returns its time step', function () {
    for (const [seconds, code] of vectors) {
      expect(matchTotpStep(RFC_SEED_BASE32, code, () => seconds * 1000), String(seconds)).to.equal(Math.floor(seconds / 30));
    }
  });

  it('accepts the previous and next step, and nothing further', function () {
    const at = 1111111111 * 1000;
    const step = timeStepAt(at);
    for (const offset of [-1, 0, 1]) {
      const code = totpCodeAt(RFC_SEED, at + offset * 30_000);
      expect(matchTotpStep(RFC_SEED_BASE32, code, () => at), `offset ${offset}`).to.equal(step + offset);
    }
    for (const offset of [-3, -2, 2, 3]) {
      const code = totpCodeAt(RFC_SEED, at + offset * 30_000);
      expect(matchTotpStep(RFC_SEED_BASE32, code, () => at), `offset ${offset}`).to.equal(undefined);
    }
  });

  it('computes 64-bit time steps correctly after 2038', function () {
    expect(timeStepAt(20000000000 * 1000)).to.equal(0x27bc86aa);
    expect(timeStepAt(2 ** 40 * 1000)).to.equal(Math.floor(2 ** 40 / 30));
  });

  it('takes exactly six digits, with spaces removed, and nothing else', function () {
    expect(normalizeTotpCode('123456')).to.equal('123456');
    expect(normalizeTotpCode(' 123 456 ')).to.equal('123456');
    expect(normalizeTotpCode('012345')).to.equal('012345');
    for (const bad of ['12345', '1234567', '12345a', '+12345', '-123456', '１２３４５６', '١٢٣٤٥٦', '123456x', 'code 123456', '', undefined, 123456, ['123456']]) {
      expect(normalizeTotpCode(bad), String(bad)).to.equal(undefined);
    }
  });

  it('creates 160-bit secrets in base32, a new one each time', function () {
    const secrets = new Set(Array.from({ length: 50 }, () => createTotpSecret()));
    expect(secrets.size).to.equal(50);
    for (const secret of secrets) expect(secret).to.match(/^[A-Z2-7]{32}$/);
  });

  it('builds an otpauth URI that names the issuer and account and declares SHA1, 6 digits and 30 s', function () {
    const text = totpUri({ issuer: 'Twofold', accountName: 'ada', secret: 'JBSWY3DPEHPK3PXP' });
    expect(text.startsWith('otpauth://totp/Twofold:ada?')).to.equal(true);
    const uri = new URL(text);
    expect(Object.fromEntries(uri.searchParams)).to.deep.equal({ secret: 'JBSWY3DPEHPK3PXP', issuer: 'Twofold', algorithm: 'SHA1', digits: '6', period: '30' });
  });

  it('draws the URI as a QR code in an inline PNG', async function () {
    const options = { issuer: 'Twofold', accountName: 'ada', secret: 'JBSWY3DPEHPK3PXP' };
    const match = /^data:image\/png;base64,(.+)$/.exec(await totpQrCode(options));
    expect(match, 'a data: URL of a PNG').to.not.equal(null);
    expect(decodeQrPng(Buffer.from(match![1]!, 'base64'))).to.equal(totpUri(options));
  });

  it('groups a key in fours for manual entry', function () {
    expect(groupSecret('ABCDEFGHIJ')).to.deep.equal(['ABCD', 'EFGH', 'IJ']);
  });
});
