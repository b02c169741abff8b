// Provider key queries on a real Postgres schema: generated once, encrypted, the same for every instance.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { createCipher, type Cipher } from '../../src/security/encryption.js';
import type { Database } from '../../src/storage/database.js';
import { createProviderKeyQueries } from '../../src/storage/provider-keys.js';
import { createTestDatabase, openTestDatabase, type TestDatabase } from '../helpers/database.js';

describe('storage: provider keys', () => {
  let db: TestDatabase;
  let cipher: Cipher;

  before(async () => {
    db = await createTestDatabase();
    cipher = createCipher(randomBytes(32));
  });
  after(async () => db?.cleanup());
  beforeEach(async () => db.knex('provider_keys').delete());

  it('creates a value once, then loads the stored one without calling create', async () => {
    const keys = createProviderKeyQueries(db.knex, cipher);
    let calls = 0;
    const create = () => {
      calls++;
      return { keys: [{ kid: `k${calls}` }] };
    };
    const first = await keys.loadOrCreate('jwks', create);
    const second = await keys.loadOrCreate('jwks', create);
    expect(first).to.deep.equal({ keys: [{ kid: 'k1' }] });
    expect(second).to.deep.equal(first);
    expect(calls).to.equal(1);
  });

  it('accepts an async create and keeps kinds apart', async () => {
    const keys = createProviderKeyQueries(db.knex, cipher);
    const jwks = await keys.loadOrCreate('jwks', async () => ({ keys: ['j'] }));
    const cookies = await keys.loadOrCreate('cookie-keys', async () => ['c1', 'c2']);
    expect(jwks).to.deep.equal({ keys: ['j'] });
    expect(cookies).to.deep.equal(['c1', 'c2']);
    expect(await db.knex('provider_keys').count({ n: '*' })).to.deep.equal([{ n: '2' }]);
  });

  it('stores the value encrypted with the kind as context', async () => {
    const keys = createProviderKeyQueries(db.knex, cipher);
    await keys.loadOrCreate('cookie-keys', () => ['plain-cookie-key-value']);
    const row = await db.knex('provider_keys').where({ kind: 'cookie-keys' }).first();
    expect(row.value_encrypted).not.to.include('plain-cookie-key-value');
    expect(JSON.parse(cipher.decrypt(row.value_encrypted, 'cookie-keys'))).to.deep.equal(['plain-cookie-key-value']);
    expect(() => cipher.decrypt(row.value_encrypted, 'jwks')).to.throw();
    expect(row.created_at).to.be.instanceOf(Date);
  });

  it('refuses a value moved to another kind', async () => {
    const keys = createProviderKeyQueries(db.knex, cipher);
    await keys.loadOrCreate('cookie-keys', () => ['attacker-known']);
    const { value_encrypted } = await db.knex('provider_keys').where({ kind: 'cookie-keys' }).first();
    await db.knex('provider_keys').insert({ kind: 'jwks', value_encrypted });
    let error: unknown;
    try {
      await keys.loadOrCreate('jwks', () => ({ keys: [] }));
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(Error);
  });

  describe('two instances starting at once', () => {
    let second: Database;
    before(async () => {
      second = await openTestDatabase(db.schema);
    });
    after(async () => second?.close());

    it('end with the same value, stored once', async () => {
      const a = createProviderKeyQueries(db.knex, cipher);
      const b = createProviderKeyQueries(second.knex, cipher);
      // Both creators wait for each other, so both instances have read "nothing stored" before either inserts.
      let arrived = 0;
      let release!: () => void;
      const bothArrived = new Promise<void>((resolve) => (release = resolve));
      const create = (name: string) => async () => {
        if (++arrived === 2) release();
        await bothArrived;
        return { keys: [{ kid: name, k: randomBytes(16).toString('hex') }] };
      };
      const [fromA, fromB] = await Promise.all([a.loadOrCreate('jwks', create('a')), b.loadOrCreate('jwks', create('b'))]);
      expect(arrived).to.equal(2);
      expect(fromA).to.deep.equal(fromB);
      expect(await db.knex('provider_keys').where({ kind: 'jwks' }).count({ n: '*' })).to.deep.equal([{ n: '1' }]);
      const row = await second.knex('provider_keys').where({ kind: 'jwks' }).first();
      expect(JSON.parse(cipher.decrypt(row.value_encrypted, 'jwks'))).to.deep.equal(fromA);
    });

    it('many concurrent callers across both instances all agree', async () => {
      const instances = [createProviderKeyQueries(db.knex, cipher), createProviderKeyQueries(second.knex, cipher)];
      const values = await Promise.all(
        Array.from({ length: 12 }, (_, i) => instances[i % 2]!.loadOrCreate('cookie-keys', () => [randomBytes(8).toString('hex')])),
      );
      for (const value of values) expect(value).to.deep.equal(values[0]);
    });
  });
});
