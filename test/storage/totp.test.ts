// TOTP queries on a real Postgres schema: secrets encrypted at rest and bound to their account, the atomic replay guard.
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createCipher } from '../../src/security/encryption.js';
import { createAccountQueries, type AccountQueries } from '../../src/storage/accounts.js';
import { createTotpQueries, type TotpQueries } from '../../src/storage/totp.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const STEP = 59_000_000;

describe('storage: totp', () => {
  let db: TestDatabase;
  let accounts: AccountQueries;
  let totp: TotpQueries;

  async function newAccount(username: string): Promise<string> {
    const result = await accounts.create({ username, name: username, email: `${username}@example.com`, role: 'sysadmin', passwordHash: 'h' });
    if (result.status !== 'CREATED') throw new Error('not created');
    return result.account.id;
  }

  before(async () => {
    db = await createTestDatabase();
    accounts = createAccountQueries(db.knex);
    totp = createTotpQueries(db.knex, createCipher(randomBytes(32)));
  });
  after(async () => db?.cleanup());
  beforeEach(async () => db.knex('accounts').delete());

  it('connects a secret, stored encrypted, and finds it decrypted', async () => {
    const id = await newAccount('alice');
    expect(await totp.find(id)).to.equal(undefined);
    await totp.connect(id, SECRET, STEP);
    const found = await totp.find(id);
    expect(found).to.include({ secret: SECRET, lastStep: STEP });
    expect(found!.connectedAt).to.be.instanceOf(Date);
    expect(found!.lastUsedAt).to.be.instanceOf(Date);
    const [raw] = await db.knex('account_totp').where({ account_id: id }).pluck('secret_encrypted');
    expect(raw).to.be.a('string').and.not.include(SECRET);
    expect(raw).to.match(/^v1\./);
  });

  it('tells whether an app is connected without decrypting, for any id', async () => {
    const id = await newAccount('ella');
    expect(await totp.exists(id)).to.equal(false);
    await totp.connect(id, SECRET, STEP);
    expect(await totp.exists(id)).to.equal(true);
    await totp.disconnect(id);
    expect(await totp.exists(id)).to.equal(false);
    expect(await totp.exists('not-a-uuid')).to.equal(false);
  });

  it('refuses a ciphertext copied into another account', async () => {
    const alice = await newAccount('alice');
    const mallory = await newAccount('mallory');
    await totp.connect(alice, SECRET, STEP);
    await totp.connect(mallory, 'MALLORYKNOWSTHIS', STEP);
    const [sealed] = await db.knex('account_totp').where({ account_id: mallory }).pluck('secret_encrypted');
    await db.knex('account_totp').where({ account_id: alice }).update({ secret_encrypted: sealed });
    let error: unknown;
    await totp.find(alice).catch((err: unknown) => (error = err));
    expect(error).to.be.instanceOf(Error);
    expect((await totp.find(mallory))?.secret).to.equal('MALLORYKNOWSTHIS');
  });

  it('marks the account as having had a second factor, in the same transaction as the secret', async () => {
    const id = await newAccount('alice');
    expect((await accounts.findById(id))?.mfaConnectedBefore).to.equal(false);
    await totp.connect(id, SECRET, STEP);
    expect((await accounts.findById(id))?.mfaConnectedBefore).to.equal(true);
    await totp.disconnect(id);
    expect((await accounts.findById(id))?.mfaConnectedBefore).to.equal(true);
  });

  it('connects nothing for an unknown account', async () => {
    const id = randomUUID();
    let error: unknown;
    await totp.connect(id, SECRET, STEP).catch((err: unknown) => (error = err));
    expect(error).to.be.instanceOf(Error);
    expect(await db.knex('account_totp').count({ n: '*' })).to.deep.equal([{ n: '0' }]);
  });

  it('replaces the secret when connecting again, and the new confirming step counts as used', async () => {
    const id = await newAccount('alice');
    await totp.connect(id, SECRET, STEP);
    await totp.connect(id, 'NEWSECRET', STEP + 10);
    expect(await totp.find(id)).to.include({ secret: 'NEWSECRET', lastStep: STEP + 10 });
    expect(await totp.acceptStep(id, STEP + 10)).to.equal(false);
  });

  it('never accepts the step that confirmed the setup', async () => {
    const id = await newAccount('alice');
    await totp.connect(id, SECRET, STEP);
    expect(await totp.acceptStep(id, STEP)).to.equal(false);
  });

  it('accepts a later step once, then refuses it and every older one', async () => {
    const id = await newAccount('alice');
    await totp.connect(id, SECRET, STEP);
    await db.knex('account_totp').where({ account_id: id }).update({ last_used_at: null });
    expect(await totp.acceptStep(id, STEP + 2)).to.equal(true);
    const found = await totp.find(id);
    expect(found?.lastStep).to.equal(STEP + 2);
    expect(found?.lastUsedAt).to.be.instanceOf(Date);
    expect(await totp.acceptStep(id, STEP + 2)).to.equal(false);
    expect(await totp.acceptStep(id, STEP + 1)).to.equal(false);
    expect(await totp.acceptStep(id, STEP)).to.equal(false);
    expect(await totp.acceptStep(id, STEP + 3)).to.equal(true);
    expect((await totp.find(id))?.lastStep).to.equal(STEP + 3);
  });

  it('reads the secret, still sealed, with the account for the login, and opens it only for that account', async () => {
    const id = await newAccount('gina');
    expect((await accounts.findForLogin('GINA'))?.totpSealed, 'no app yet').to.equal(undefined);
    await totp.connect(id, SECRET, STEP);
    const found = await accounts.findForLogin('gina');
    expect(found?.hasTotp).to.equal(true);
    expect(found?.totpSealed).to.be.a('string').and.not.include(SECRET);
    expect(totp.open(id, found!.totpSealed!)).to.deep.equal({ secret: SECRET, sealed: found!.totpSealed });
    expect(() => totp.open(randomUUID(), found!.totpSealed!)).to.throw();
  });

  it('accepts a step against a secret read earlier only while it is still the stored one', async () => {
    const id = await newAccount('hugo');
    await totp.connect(id, SECRET, STEP);
    const earlier = (await totp.find(id))!.sealed;
    expect(await totp.acceptStep(id, STEP + 1, earlier)).to.equal(true);
    // Replaced meanwhile (another app connected): the earlier secret no longer counts, the stored one does.
    await totp.connect(id, 'KRUGS4ZANFZSAYJAORSXG5BAONSWG4TF', STEP + 1);
    expect(await totp.acceptStep(id, STEP + 2, earlier)).to.equal(false);
    expect(await totp.acceptStep(id, STEP + 2, (await totp.find(id))!.sealed)).to.equal(true);
    await totp.disconnect(id);
    expect(await totp.acceptStep(id, STEP + 3, earlier)).to.equal(false);
  });

  it('lets exactly one of 20 parallel submissions of the same step through', async () => {
    const id = await newAccount('alice');
    await totp.connect(id, SECRET, STEP);
    const results = await Promise.all(Array.from({ length: 20 }, () => totp.acceptStep(id, STEP + 1)));
    expect(results.filter(Boolean)).to.have.length(1);
  });

  it('keeps steps as 64-bit values', async () => {
    const id = await newAccount('alice');
    const big = 2 ** 40; // beyond a 32-bit integer column
    await totp.connect(id, SECRET, big);
    expect(await totp.acceptStep(id, big + 1)).to.equal(true);
    expect((await totp.find(id))?.lastStep).to.equal(big + 1);
  });

  it('accepts nothing for an account without TOTP, an unknown account, or a non-uuid', async () => {
    const id = await newAccount('alice');
    expect(await totp.acceptStep(id, STEP)).to.equal(false);
    expect(await totp.acceptStep(randomUUID(), STEP)).to.equal(false);
    expect(await totp.acceptStep('not-a-uuid', STEP)).to.equal(false);
    expect(await totp.find('not-a-uuid')).to.equal(undefined);
  });

  it('refuses a step that is not a safe non-negative integer', async () => {
    const id = await newAccount('alice');
    await totp.connect(id, SECRET, STEP);
    for (const bad of [1.5, -1, Number.NaN, 2 ** 53]) {
      let error: unknown;
      await totp.acceptStep(id, bad).catch((err: unknown) => (error = err));
      expect(error, String(bad)).to.be.instanceOf(RangeError);
    }
  });

  it('disconnects: the secret is gone and no code is accepted; false when there was none', async () => {
    const id = await newAccount('alice');
    await totp.connect(id, SECRET, STEP);
    expect(await totp.disconnect(id)).to.equal(true);
    expect(await totp.find(id)).to.equal(undefined);
    expect(await totp.acceptStep(id, STEP + 1)).to.equal(false);
    expect(await totp.disconnect(id)).to.equal(false);
  });

  it('is deleted with its account', async () => {
    const id = await newAccount('alice');
    await totp.connect(id, SECRET, STEP);
    await db.knex('accounts').where({ id }).delete();
    expect(await db.knex('account_totp').count({ n: '*' })).to.deep.equal([{ n: '0' }]);
  });
});
