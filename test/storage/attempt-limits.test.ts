// Attempt limits on the real Redis and in process: the lock after the allowance, and repeat locks that double.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { CODE_LIMITS, createAttemptLimit, createPasswordIpLimit, describeLockTime, PASSWORD_LIMITS, PASSWORD_SURGE, type LimitRule } from '../../src/security/attempt-limits.js';
import { createTestRedis, type TestRedis } from '../helpers/redis.js';

const growing: LimitRule = { name: 'growing', allowed: 2, windowSeconds: 60, lockSeconds: 1, repeatLocks: { memorySeconds: 60, maxLockSeconds: 3 } };
const fixed: LimitRule = { name: 'fixed', allowed: 2, windowSeconds: 60, lockSeconds: 1 };

for (const kind of ['Redis', 'in-process'] as const) {
  describe(`attempt limits (${kind})`, function () {
    this.timeout(20_000);
    let redis: TestRedis | undefined;
    let prefix = 'local:';
    before(async function () {
      if (kind === 'Redis') {
        redis = await createTestRedis();
        prefix = redis.prefix;
      }
    });
    after(async () => redis?.cleanup());
    const limitFor = (rule: LimitRule) => createAttemptLimit(rule, { redis: redis?.redis, prefix });
    /** Fails `key` until the limit locks it; returns the lock's length in seconds. */
    const lockOut = async (limit: ReturnType<typeof limitFor>, key: string) => {
      expect(await limit.fail(key)).to.deep.equal({ status: 'ALLOWED' });
      const second = await limit.fail(key);
      expect(second.status).to.equal('LOCKED');
      return second.status === 'LOCKED' ? second.retryAfterSeconds : 0;
    };

    it('locks a key after its allowance, refuses it while locked, and counts keys apart', async function () {
      const limit = limitFor(fixed);
      expect(await lockOut(limit, 'a')).to.equal(1);
      expect((await limit.check('a')).status).to.equal('LOCKED');
      expect(await limit.check('b')).to.deep.equal({ status: 'ALLOWED', failures: 0 });
      await sleep(1_100);
      expect(await limit.check('a')).to.deep.equal({ status: 'ALLOWED', failures: 0 });
      // Without repeatLocks every lock is as long as the first (the per-username password lock).
      expect(await lockOut(limit, 'a')).to.equal(1);
    });

    it('doubles each repeat lock within the memory, up to the maximum', async function () {
      const limit = limitFor(growing);
      expect(await lockOut(limit, 'addr')).to.equal(1);
      await sleep(1_100);
      expect(await lockOut(limit, 'addr')).to.equal(2);
      // A check while locked tells how long the lock still lasts, and the failures are not counted any further.
      expect(await limit.check('addr')).to.deep.equal({ status: 'LOCKED', retryAfterSeconds: 2 });
      await sleep(2_100);
      expect(await lockOut(limit, 'addr')).to.equal(3);
      // Another key starts from the first lock's length.
      expect(await lockOut(limit, 'other')).to.equal(1);
    });

    it('holds every address to the surge allowance while failures across all addresses pass the threshold', async function () {
      const rules = {
        ip: { name: 'surge-test-ip', allowed: 5, windowSeconds: 60, lockSeconds: 60 },
        surge: { failures: 6, windowSeconds: 60, holdSeconds: 2, ip: { name: 'surge-test-strict', allowed: 2, windowSeconds: 60, lockSeconds: 60 } },
      };
      const starts: { ip: string }[] = [];
      const limit = createPasswordIpLimit({ redis: redis?.redis, prefix }, { rules, onSurge: (surge) => starts.push(surge) });
      for (let i = 0; i < 3; i++) expect((await limit.fail('a')).status).to.equal('ALLOWED');
      // Over the surge allowance, under the address's own: allowed, as no surge is on.
      expect(await limit.check('a')).to.deep.equal({ status: 'ALLOWED', failures: 3 });
      expect(starts).to.deep.equal([]);

      for (const address of ['b', 'c']) await limit.fail(address);
      const starting = await limit.fail('d');
      expect(starting.status, 'd has one failure: not over any allowance').to.equal('ALLOWED');
      expect(starts.map((s) => s.ip)).to.deep.equal(['d']);
      expect((await limit.check('a')).status).to.equal('LOCKED');
      expect(await limit.check('e')).to.deep.equal({ status: 'ALLOWED', failures: 0 });
      // The third failure of b is refused during the surge; the start is reported once.
      await limit.fail('b');
      expect((await limit.fail('b')).status).to.equal('LOCKED');
      expect(starts).to.have.length(1);

      await sleep(2_100);
      expect(await limit.check('a'), 'the surge is over: the address\'s own allowance again').to.deep.equal({ status: 'ALLOWED', failures: 3 });
    });
  });
}

describe('lock lengths', function () {
  it('never lengthen the per-username password lock (anyone can type a username); lengthen the per-address and second-factor ones up to a day', function () {
    expect(PASSWORD_LIMITS.account).not.to.have.property('repeatLocks');
    expect(PASSWORD_LIMITS.ip.repeatLocks).to.deep.equal({ memorySeconds: 86_400, maxLockSeconds: 86_400 });
    // During a surge an address gets fewer failures than its own allowance, and no shorter locks.
    expect(PASSWORD_SURGE.ip.allowed).to.be.below(PASSWORD_LIMITS.ip.allowed);
    expect(PASSWORD_SURGE.ip.repeatLocks).to.deep.equal(PASSWORD_LIMITS.ip.repeatLocks);
    expect(CODE_LIMITS.secondFactor.repeatLocks).to.deep.equal({ memorySeconds: 7 * 86_400, maxLockSeconds: 86_400 });
  });

  it('are said in minutes up to 2 hours, then in hours, rounded up', function () {
    const said = [1, 59, 60, 61, 900, 7_140, 7_200, 7_201, 86_400].map(describeLockTime);
    expect(said).to.deep.equal(['1 minute', '1 minute', '1 minute', '2 minutes', '15 minutes', '119 minutes', '2 hours', '3 hours', '24 hours']);
  });
});
