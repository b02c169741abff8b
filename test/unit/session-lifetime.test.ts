// sessionTtl and sessionPastAbsoluteLifetime: the idle timeout from each use, cut at the absolute end from the login.
import { expect } from 'chai';
import { sessionPastAbsoluteLifetime, sessionTtl } from '../../src/oidc/session-lifetime.js';

const lifetimes = { idle: 1800, absolute: 8 * 3600 };
const LOGIN = 1_700_000_000;

describe('session lifetime', function () {
  it('keeps a session for the idle timeout from each save', function () {
    expect(sessionTtl(lifetimes, { loginTs: LOGIN }, LOGIN)).to.equal(1800);
    expect(sessionTtl(lifetimes, { loginTs: LOGIN }, LOGIN + 4 * 3600)).to.equal(1800);
  });

  it('never keeps it past the absolute lifetime counted from the login', function () {
    expect(sessionTtl(lifetimes, { loginTs: LOGIN }, LOGIN + 8 * 3600 - 600)).to.equal(600);
    expect(sessionTtl(lifetimes, { loginTs: LOGIN }, LOGIN + 8 * 3600 - 1)).to.equal(1);
  });

  it('gives a lifetime of at least one second, which the check then refuses to reuse', function () {
    for (const late of [0, 1, 3600]) {
      const now = LOGIN + 8 * 3600 + late;
      expect(sessionTtl(lifetimes, { loginTs: LOGIN }, now), `${late}`).to.equal(1);
      expect(sessionPastAbsoluteLifetime(lifetimes, { loginTs: LOGIN }, now), `${late}`).to.equal(true);
    }
    expect(sessionPastAbsoluteLifetime(lifetimes, { loginTs: LOGIN }, LOGIN + 8 * 3600 - 1)).to.equal(false);
  });

  it('keeps a session with no login (oidc-provider state only) for the idle timeout, within the absolute lifetime', function () {
    expect(sessionTtl(lifetimes, {}, LOGIN)).to.equal(1800);
    expect(sessionTtl({ idle: 1800, absolute: 600 }, {}, LOGIN)).to.equal(600);
    expect(sessionPastAbsoluteLifetime(lifetimes, {}, LOGIN)).to.equal(false);
  });
});
