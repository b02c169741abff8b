// Account queries on a real Postgres schema: mapping, case-insensitive usernames, atomic uniqueness.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createAccountQueries, type AccountQueries, type NewAccount } from '../../src/storage/accounts.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const alice: NewAccount = { username: 'Alice', name: 'Alice Liddell', email: 'alice@example.com', role: 'user', passwordHash: '$argon2id$fake' };

describe('storage: accounts', () => {
  let db: TestDatabase;
  let accounts: AccountQueries;

  before(async () => {
    db = await createTestDatabase();
    accounts = createAccountQueries(db.knex);
  });
  after(async () => db?.cleanup());
  beforeEach(async () => db.knex('accounts').delete());

  it('creates an account and maps every column to camelCase', async () => {
    const result = await accounts.create(alice);
    if (result.status !== 'CREATED') throw new Error(`expected CREATED, got ${result.status}`);
    const { account } = result;
    expect(account.id).to.match(/^[0-9a-f-]{36}$/);
    expect(account).to.include({ username: 'Alice', name: 'Alice Liddell', email: 'alice@example.com', role: 'user', passwordHash: '$argon2id$fake', disabled: false });
    expect(account.createdAt).to.be.instanceOf(Date);
    expect(account.updatedAt).to.be.instanceOf(Date);
    expect(Math.abs(account.createdAt.getTime() - Date.now())).to.be.below(60_000);
    expect(await accounts.findById(account.id)).to.deep.equal(account);
  });

  it('refuses a username taken in another letter case', async () => {
    expect((await accounts.create(alice)).status).to.equal('CREATED');
    expect(await accounts.create({ ...alice, username: 'ALICE', email: 'other@example.com' })).to.deep.equal({ status: 'USERNAME_TAKEN' });
    expect(await accounts.list()).to.have.length(1);
  });

  it('lets exactly one of many simultaneous sign-ups for the same name win', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => accounts.create({ ...alice, username: i % 2 ? 'bob' : 'BOB' })),
    );
    expect(results.filter((r) => r.status === 'CREATED')).to.have.length(1);
    expect(results.filter((r) => r.status === 'USERNAME_TAKEN')).to.have.length(7);
  });

  it('still reports other errors (a role outside the check constraint)', async () => {
    let error: unknown;
    try {
      await accounts.create({ ...alice, role: 'root' as never });
    } catch (err) {
      error = err;
    }
    expect((error as { code?: string }).code).to.equal('23514'); // check_violation, not USERNAME_TAKEN
  });

  it('finds by id, and answers undefined for an unknown uuid or a string that is not a uuid', async () => {
    const created = await accounts.create(alice);
    if (created.status !== 'CREATED') throw new Error('not created');
    expect((await accounts.findById(created.account.id))?.username).to.equal('Alice');
    expect(await accounts.findById(randomUUID())).to.equal(undefined);
    expect(await accounts.findById('not-a-uuid')).to.equal(undefined);
    expect(await accounts.findById("'; drop table accounts; --")).to.equal(undefined);
  });

  it('finds by username case-insensitively', async () => {
    await accounts.create(alice);
    expect((await accounts.findByUsername('alice'))?.username).to.equal('Alice');
    expect((await accounts.findByUsername('ALICE'))?.username).to.equal('Alice');
    expect(await accounts.findByUsername('alic')).to.equal(undefined);
    expect(await accounts.findByUsername('alic%')).to.equal(undefined);
  });

  it('lists accounts by username', async () => {
    for (const username of ['carol', 'Bob', 'alice']) await accounts.create({ ...alice, username });
    expect((await accounts.list()).map((a) => a.username)).to.deep.equal(['alice', 'Bob', 'carol']);
  });

  it('defaults the role to user and the account to enabled', async () => {
    await db.knex('accounts').insert({ username: 'raw', name: 'Raw', email: 'raw@example.com', password_hash: 'x' });
    expect(await accounts.findByUsername('raw')).to.include({ role: 'user', disabled: false });
  });

  it('sets the role and bumps updatedAt; undefined for an unknown username', async () => {
    const created = await accounts.create(alice);
    if (created.status !== 'CREATED') throw new Error('not created');
    await new Promise((resolve) => setTimeout(resolve, 10));
    const updated = await accounts.setRole('ALICE', 'sysadmin');
    expect(updated?.role).to.equal('sysadmin');
    expect(updated!.updatedAt.getTime()).to.be.greaterThan(created.account.updatedAt.getTime());
    expect((await accounts.findById(created.account.id))?.role).to.equal('sysadmin');
    expect(await accounts.setRole('nobody', 'sysadmin')).to.equal(undefined);
  });

  it('disables and re-enables an account; undefined for an unknown username', async () => {
    await accounts.create(alice);
    expect((await accounts.setDisabled('alice', true))?.disabled).to.equal(true);
    expect((await accounts.findByUsername('alice'))?.disabled).to.equal(true);
    expect((await accounts.setDisabled('alice', false))?.disabled).to.equal(false);
    expect(await accounts.setDisabled('nobody', true)).to.equal(undefined);
  });
});
