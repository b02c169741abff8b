// What a login needs after the password, for each kind of account and requested level.
import { expect } from 'chai';
import { planSecondFactor } from '../../src/interactions/second-factor/plan-second-factor.js';
import type { Account } from '../../src/storage/queries.js';

function account(overrides: Partial<Account> = {}): Account {
  return {
    id: '00000000-0000-4000-8000-000000000000', username: 'u', name: 'U', email: 'u@example.com', role: 'user',
    passwordHash: 'x', disabled: false, createdAt: new Date(), updatedAt: new Date(),
    mfaPostponementsUsed: 0, mfaConnectedBefore: false, emailVerifiedAt: null, ...overrides,
  };
}

describe('planSecondFactor', function () {
  it('asks anyone with an authenticator for a code', function () {
    expect(planSecondFactor({ account: account(), hasTotp: true, requestedRank: 0 })).to.deep.equal({ kind: 'TOTP' });
    expect(planSecondFactor({ account: account({ role: 'sysadmin' }), hasTotp: true, requestedRank: 3 })).to.deep.equal({ kind: 'TOTP' });
  });

  it('needs nothing more from a user without 2FA when no higher level is asked for', function () {
    for (const rank of [0, 1]) expect(planSecondFactor({ account: account(), hasTotp: false, requestedRank: rank })).to.deep.equal({ kind: 'NONE' });
  });

  it('lets a sysadmin postpone setup with the count of postponements left, up to 5', function () {
    expect(planSecondFactor({ account: account({ role: 'sysadmin' }), hasTotp: false, requestedRank: 0 })).to.deep.equal({ kind: 'SETUP', postpone: { allowed: true, left: 5 } });
    expect(planSecondFactor({ account: account({ role: 'sysadmin', mfaPostponementsUsed: 4 }), hasTotp: false, requestedRank: 1 })).to.deep.equal({ kind: 'SETUP', postpone: { allowed: true, left: 1 } });
    expect(planSecondFactor({ account: account({ role: 'sysadmin', mfaPostponementsUsed: 5 }), hasTotp: false, requestedRank: 0 })).to.deep.equal({ kind: 'SETUP', postpone: { allowed: false, reason: 'EXHAUSTED' } });
  });

  it('gives no postponement after a disconnect, or when the client asks for more than a password', function () {
    expect(planSecondFactor({ account: account({ role: 'sysadmin', mfaConnectedBefore: true }), hasTotp: false, requestedRank: 0 })).to.deep.equal({ kind: 'SETUP', postpone: { allowed: false, reason: 'CONNECTED_BEFORE' } });
    for (const role of ['user', 'sysadmin'] as const) {
      for (const rank of [2, 3]) {
        expect(planSecondFactor({ account: account({ role }), hasTotp: false, requestedRank: rank })).to.deep.equal({ kind: 'SETUP', postpone: { allowed: false, reason: 'LEVEL_REQUIRED' } });
      }
    }
  });
});
