// Which key signs and which keys are published at a time T: the rules every node applies to the stored keys.
import { expect } from 'chai';
import { missingAlgs, nextChangeAfter, publicationAfterRetirement, RETIRE_MARGIN_SECONDS, scheduleAt, type ScheduledKey, type SigningAlg } from '../../src/oidc/key-schedule.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const minutes = (n: number) => new Date(T0 + n * 60_000);
const key = (kid: string, alg: SigningAlg, signFromMinute: number): ScheduledKey => ({ kid, alg, signFrom: minutes(signFromMinute) });
// ID tokens of 10 minutes: a retired key stays published 10 minutes plus the margin.
const RETENTION = publicationAfterRetirement(600);

/** kid → state name at minute `at`. */
function states(keys: ScheduledKey[], at: number): Record<string, string> {
  return Object.fromEntries(scheduleAt(keys, minutes(at), RETENTION).map(({ key, state }) => [key.kid, state.state]));
}

describe('key schedule', () => {
  it('keeps a retired key published for the ID token lifetime plus the margin', () => {
    expect(RETENTION).to.equal((600 + RETIRE_MARGIN_SECONDS) * 1000);
    expect(RETIRE_MARGIN_SECONDS).to.be.within(60, 900);
  });

  it('lets a single key of each alg sign', () => {
    expect(states([key('r1', 'RS256', 0), key('e1', 'ES256', 0)], 5)).to.deep.equal({ r1: 'signing', e1: 'signing' });
  });

  it('publishes a new key before it signs, and switches exactly at its sign-from time', () => {
    const keys = [key('r1', 'RS256', 0), key('r2', 'RS256', 60)];
    expect(states(keys, 59)).to.deep.equal({ r1: 'signing', r2: 'next' });
    const justBefore = scheduleAt(keys, new Date(minutes(60).getTime() - 1), RETENTION);
    expect(justBefore.map(({ key: k, state }) => [k.kid, state.state])).to.deep.equal([['r1', 'signing'], ['r2', 'next']]);
    expect(states(keys, 60)).to.deep.equal({ r2: 'signing', r1: 'retired' });
  });

  it('retires the old key when the new one starts, and stops publishing it after the retention', () => {
    const keys = [key('r1', 'RS256', 0), key('r2', 'RS256', 60)];
    const atSixtyOne = scheduleAt(keys, minutes(61), RETENTION);
    const retired = atSixtyOne.find(({ key: k }) => k.kid === 'r1')!.state;
    expect(retired).to.deep.equal({ state: 'retired', retiredAt: minutes(60), publishedUntil: minutes(60 + 10 + RETIRE_MARGIN_SECONDS / 60) });
    expect(states(keys, 74.99)).to.deep.equal({ r2: 'signing', r1: 'retired' });
    expect(states(keys, 75)).to.deep.equal({ r2: 'signing', r1: 'expired' });
  });

  it('puts the signing key of each alg first, then next keys, then retired ones, newest first', () => {
    const keys = [key('r3', 'RS256', 120), key('e1', 'ES256', 0), key('r1', 'RS256', 0), key('r2', 'RS256', 60), key('r4', 'RS256', 200), key('e2', 'ES256', 110)];
    const order = scheduleAt(keys, minutes(121), RETENTION).map(({ key: k, state }) => `${k.kid}:${state.state}`);
    expect(order).to.deep.equal(['r3:signing', 'r4:next', 'r2:retired', 'r1:expired', 'e2:signing', 'e1:retired']);
  });

  it('retires each key at the sign-from time of its own successor', () => {
    const keys = [key('r1', 'RS256', 0), key('r2', 'RS256', 60), key('r3', 'RS256', 65)];
    const at = scheduleAt(keys, minutes(66), RETENTION);
    const r1 = at.find(({ key: k }) => k.kid === 'r1')!.state;
    const r2 = at.find(({ key: k }) => k.kid === 'r2')!.state;
    expect(r1).to.include({ state: 'retired' }).and.to.have.deep.property('retiredAt', minutes(60));
    expect(r2).to.include({ state: 'retired' }).and.to.have.deep.property('retiredAt', minutes(65));
  });

  it('treats each alg on its own', () => {
    const keys = [key('r1', 'RS256', 0), key('r2', 'RS256', 60), key('e1', 'ES256', 0)];
    expect(states(keys, 61)).to.deep.equal({ r2: 'signing', r1: 'retired', e1: 'signing' });
  });

  it('lets the oldest key sign when no key has started yet (a clock behind the one that made them)', () => {
    expect(states([key('r2', 'RS256', 10), key('r1', 'RS256', 5)], 0)).to.deep.equal({ r1: 'signing', r2: 'next' });
  });

  it('does not depend on the order the keys come in', () => {
    const keys = [key('r1', 'RS256', 0), key('r2', 'RS256', 60), key('e1', 'ES256', 0)];
    const forward = scheduleAt(keys, minutes(61), RETENTION);
    const backward = scheduleAt([...keys].reverse(), minutes(61), RETENTION);
    expect(backward).to.deep.equal(forward);
  });

  it('names the next change: a sign-from time, then the end of a publication', () => {
    const keys = [key('r1', 'RS256', 0), key('r2', 'RS256', 60)];
    expect(nextChangeAfter(keys, minutes(1), RETENTION)).to.deep.equal(minutes(60));
    expect(nextChangeAfter(keys, minutes(60), RETENTION)).to.deep.equal(minutes(75));
    expect(nextChangeAfter(keys, minutes(75), RETENTION)).to.equal(undefined);
    expect(nextChangeAfter([key('r1', 'RS256', 0)], minutes(1), RETENTION)).to.equal(undefined);
  });

  it('names the algs without a key', () => {
    expect(missingAlgs([])).to.deep.equal(['RS256', 'ES256']);
    expect(missingAlgs([key('e1', 'ES256', 0)])).to.deep.equal(['RS256']);
    expect(missingAlgs([key('e1', 'ES256', 0), key('r1', 'RS256', 0)])).to.deep.equal([]);
  });
});
