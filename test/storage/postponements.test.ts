// Account columns added for two-factor authentication, on a real Postgres schema: postponements spent atomically, profile and email verification.
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createCipher } from '../../src/security/encryption.js';
import { createAccountQueries, type AccountQueries } from '../../src/storage/accounts.js';
import { createTotpQueries, type TotpQueries } from '../../src/storage/totp.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const MAX = 5;

describe('storage: second-factor postponements', () => {
  let db: TestDatabase;
  let accounts: AccountQueries;
  let totp: TotpQueries;
  let id: string;

  before(async () => {
    db = await createTestDatabase();
    accounts = createAccountQueries(db.knex);
    totp = createTotpQueries(db.knex, createCipher(randomBytes(32)));
  });
  after(async () => db?.cleanup());
  beforeEach(async () => {
    await db.knex('accounts').delete();
    const result = await accounts.create({ username: 'admin', name: 'Admin', email: 'admin@example.com', role: 'sysadmin', passwordHash: 'h' });
    if (result.status !== 'CREATED') throw new Error('not created');
    id = result.account.id;
    expect(result.account).to.include({ mfaPostponementsUsed: 0, mfaConnectedBefore: false, emailVerifiedAt: null });
  });

  it('grants five postponements, counting down, then EXHAUSTED', async () => {
    const results = [];
    for (let i = 0; i < MAX + 2; i++) results.push(await accounts.usePostponement(id, MAX));
    expect(results).to.deep.equal([
      { status: 'POSTPONED', left: 4 },
      { status: 'POSTPONED', left: 3 },
      { status: 'POSTPONED', left: 2 },
      { status: 'POSTPONED', left: 1 },
      { status: 'POSTPONED', left: 0 },
      { status: 'EXHAUSTED' },
      { status: 'EXHAUSTED' },
    ]);
    expect((await accounts.findById(id))?.mfaPostponementsUsed).to.equal(MAX);
  });

  it('grants exactly five of 20 parallel requests', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => accounts.usePostponement(id, MAX)));
    const postponed = results.filter((r) => r.status === 'POSTPONED');
    expect(postponed).to.have.length(MAX);
    expect(postponed.map((r) => r.left).sort()).to.deep.equal([0, 1, 2, 3, 4]);
    expect((await accounts.findById(id))?.mfaPostponementsUsed).to.equal(MAX);
  });

  it('refuses once TOTP is connected', async () => {
    expect((await accounts.usePostponement(id, MAX)).status).to.equal('POSTPONED');
    await totp.connect(id, 'SECRET', 1);
    expect(await accounts.usePostponement(id, MAX)).to.deep.equal({ status: 'EXHAUSTED' });
    expect((await accounts.findById(id))?.mfaPostponementsUsed).to.equal(1);
  });

  it('refuses when a TOTP row exists even without the flag (either condition suffices)', async () => {
    await db.knex('account_totp').insert({ account_id: id, secret_encrypted: 'x', last_step: 1 });
    expect(await accounts.usePostponement(id, MAX)).to.deep.equal({ status: 'EXHAUSTED' });
  });

  it('refuses after a second factor was connected before, even once removed', async () => {
    await totp.connect(id, 'SECRET', 1);
    await totp.disconnect(id);
    expect(await accounts.usePostponement(id, MAX)).to.deep.equal({ status: 'EXHAUSTED' });
    await db.knex('accounts').where({ id }).update({ mfa_connected_before: true });
    expect(await accounts.usePostponement(id, MAX)).to.deep.equal({ status: 'EXHAUSTED' });
  });

  it('answers EXHAUSTED for an unknown account or a non-uuid, and refuses a bad limit', async () => {
    expect(await accounts.usePostponement(randomUUID(), MAX)).to.deep.equal({ status: 'EXHAUSTED' });
    expect(await accounts.usePostponement('nope', MAX)).to.deep.equal({ status: 'EXHAUSTED' });
    expect(await accounts.usePostponement(id, 0)).to.deep.equal({ status: 'EXHAUSTED' });
    let error: unknown;
    await accounts.usePostponement(id, -1).catch((err: unknown) => (error = err));
    expect(error).to.be.instanceOf(RangeError);
  });

  it('refuses a negative count in the database itself', async () => {
    let error: unknown;
    await db.knex('accounts').where({ id }).update({ mfa_postponements_used: -1 }).catch((err: unknown) => (error = err));
    expect((error as { code?: string }).code).to.equal('23514');
  });
});

describe('storage: profile and email verification', () => {
  let db: TestDatabase;
  let accounts: AccountQueries;
  let id: string;

  before(async () => {
    db = await createTestDatabase();
    accounts = createAccountQueries(db.knex);
  });
  after(async () => db?.cleanup());
  beforeEach(async () => {
    await db.knex('accounts').delete();
    const result = await accounts.create({ username: 'alice', name: 'Alice', email: 'alice@example.com', role: 'user', passwordHash: 'h' });
    if (result.status !== 'CREATED') throw new Error('not created');
    id = result.account.id;
  });

  it('verifies the email only while it is still the account email', async () => {
    expect(await accounts.markEmailVerified(id, 'old@example.com')).to.equal(false);
    expect((await accounts.findById(id))?.emailVerifiedAt).to.equal(null);
    expect(await accounts.markEmailVerified(id, 'alice@example.com')).to.equal(true);
    expect((await accounts.findById(id))?.emailVerifiedAt).to.be.instanceOf(Date);
    expect(await accounts.markEmailVerified(randomUUID(), 'alice@example.com')).to.equal(false);
    expect(await accounts.markEmailVerified('nope', 'alice@example.com')).to.equal(false);
  });

  it('updates the name and keeps the verification; a new email clears it', async () => {
    await accounts.markEmailVerified(id, 'alice@example.com');
    const renamed = await accounts.updateProfile(id, { name: 'Alice L.' });
    expect(renamed).to.include({ name: 'Alice L.', email: 'alice@example.com' });
    expect(renamed?.emailVerifiedAt).to.be.instanceOf(Date);
    const same = await accounts.updateProfile(id, { email: 'alice@example.com' });
    expect(same?.emailVerifiedAt).to.be.instanceOf(Date);
    const moved = await accounts.updateProfile(id, { email: 'alice@new.example.com' });
    expect(moved).to.include({ name: 'Alice L.', email: 'alice@new.example.com', emailVerifiedAt: null });
    expect(await accounts.markEmailVerified(id, 'alice@example.com')).to.equal(false);
    expect(await accounts.findById(id)).to.deep.equal(moved);
  });

  it('answers undefined for an unknown account', async () => {
    expect(await accounts.updateProfile(randomUUID(), { name: 'x' })).to.equal(undefined);
    expect(await accounts.updateProfile('nope', { name: 'x' })).to.equal(undefined);
  });
});
