// Client queries on a real Postgres schema: metadata round trip and secrets stored as a keyed hash.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { createClientSecretHasher, type ClientSecretHasher } from '../../src/security/client-secrets.js';
import { createCipher, type Cipher } from '../../src/security/encryption.js';
import { createClientQueries, type ClientQueries, type NewClient } from '../../src/storage/clients.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const SECRET = 'a-very-secret-client-secret-0123456789';
const webApp: NewClient = {
  clientId: 'web-app',
  name: 'Web app',
  metadata: { redirect_uris: ['https://app.example.com/cb'], grant_types: ['authorization_code'], token_endpoint_auth_method: 'client_secret_basic' },
  clientSecret: SECRET,
  firstParty: true,
};

describe('storage: clients', () => {
  let db: TestDatabase;
  let cipher: Cipher;
  let hasher: ClientSecretHasher;
  let clients: ClientQueries;

  before(async () => {
    db = await createTestDatabase();
    cipher = createCipher(randomBytes(32));
    hasher = createClientSecretHasher(randomBytes(32));
    clients = createClientQueries(db.knex, hasher, cipher);
  });
  after(async () => db?.cleanup());
  beforeEach(async () => db.knex('clients').delete());

  const rawRow = async (clientId: string) => db.knex('clients').where({ client_id: clientId }).first();

  it('creates a client and finds it with its metadata and the stored form of its secret', async () => {
    const created = await clients.create(webApp);
    const found = await clients.findById('web-app');
    expect(found).to.deep.equal(created);
    expect(found).to.include({ clientId: 'web-app', name: 'Web app', firstParty: true });
    expect(hasher.verify('web-app', SECRET, found!.secretHash!)).to.equal(true);
    expect(found!.metadata).to.deep.equal(webApp.metadata);
    expect(found!.createdAt).to.be.instanceOf(Date);
    expect(found!.updatedAt).to.be.instanceOf(Date);
  });

  it('stores only a keyed hash of the secret, bound to its client_id', async () => {
    await clients.create(webApp);
    const row = await rawRow('web-app');
    expect(row.client_secret_encrypted).to.equal(null);
    expect(row.client_secret_hash).to.match(/^hmac-sha256\.[\w-]{43}$/);
    expect(JSON.stringify(row)).not.to.include(SECRET);
    expect(hasher.verify('web-app', SECRET, row.client_secret_hash)).to.equal(true);
    expect(hasher.verify('web-app', `${SECRET}x`, row.client_secret_hash)).to.equal(false);
    // Another client's row, or another server key, and the same secret no longer matches.
    expect(hasher.verify('other-app', SECRET, row.client_secret_hash)).to.equal(false);
    expect(createClientSecretHasher(randomBytes(32)).verify('web-app', SECRET, row.client_secret_hash)).to.equal(false);
  });

  it('refuses to store the stored form of a secret as a secret', async () => {
    await clients.create(webApp);
    const { client_secret_hash } = await rawRow('web-app');
    let error: unknown;
    try {
      await clients.setSecret('web-app', client_secret_hash);
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).to.contain('not its stored form');
  });

  it('hashes a secret stored encrypted by an earlier version at its first read, and clears the ciphertext', async () => {
    const { clientSecret: _secret, ...withoutSecret } = webApp;
    await clients.create(withoutSecret);
    await db.knex('clients').where({ client_id: 'web-app' }).update({ client_secret_encrypted: cipher.encrypt(SECRET, 'web-app') });
    expect((await clients.list())[0]?.hasSecret).to.equal(true);
    const found = await clients.findById('web-app');
    expect(hasher.verify('web-app', SECRET, found!.secretHash!)).to.equal(true);
    const row = await rawRow('web-app');
    expect(row.client_secret_encrypted).to.equal(null);
    expect(row.client_secret_hash).to.equal(found!.secretHash);
    expect(await clients.findById('web-app')).to.deep.equal(found);
  });

  it('refuses an encrypted secret copied into another client row', async () => {
    await clients.create({ ...webApp, clientId: 'victim', clientSecret: 'victim-secret' });
    await db.knex('clients').where({ client_id: 'victim' }).update({ client_secret_encrypted: cipher.encrypt(SECRET, 'web-app') });
    let error: unknown;
    try {
      await clients.findById('victim');
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(Error);
    expect(hasher.verify('victim', 'victim-secret', (await rawRow('victim')).client_secret_hash)).to.equal(true);
  });

  it('never stores a client_secret found in the metadata', async () => {
    await clients.create({ ...webApp, metadata: { ...webApp.metadata, client_secret: SECRET } });
    const row = await rawRow('web-app');
    expect(row.metadata).not.to.have.property('client_secret');
    expect((await clients.findById('web-app'))?.metadata).not.to.have.property('client_secret');
  });

  it('stores a public client without a secret', async () => {
    const { clientSecret: _secret, ...publicClient } = webApp;
    await clients.create({ ...publicClient, clientId: 'spa', firstParty: false, metadata: { token_endpoint_auth_method: 'none' } });
    expect((await rawRow('spa')).client_secret_hash).to.equal(null);
    const found = await clients.findById('spa');
    expect(found).not.to.have.property('secretHash');
    expect(found?.firstParty).to.equal(false);
  });

  it('answers undefined for an unknown client', async () => {
    expect(await clients.findById('nope')).to.equal(undefined);
  });

  it('refuses a duplicate client_id', async () => {
    await clients.create(webApp);
    let error: unknown;
    try {
      await clients.create(webApp);
    } catch (err) {
      error = err;
    }
    expect((error as { code?: string }).code).to.equal('23505');
  });

  it('lists clients by id without their secrets', async () => {
    await clients.create({ ...webApp, clientId: 'b-app' });
    const { clientSecret: _secret, ...publicClient } = webApp;
    await clients.create({ ...publicClient, clientId: 'a-spa' });
    const list = await clients.list();
    expect(list.map((c) => c.clientId)).to.deep.equal(['a-spa', 'b-app']);
    expect(list.map((c) => c.hasSecret)).to.deep.equal([false, true]);
    expect(JSON.stringify(list)).not.to.include(SECRET);
    for (const client of list) expect(client).not.to.have.property('secretHash');
  });

  it('replaces a secret (hashed again) and says whether the client exists', async () => {
    await clients.create(webApp);
    const before = await rawRow('web-app');
    expect(await clients.setSecret('web-app', 'the-new-secret')).to.equal(true);
    const after = await rawRow('web-app');
    expect(after.client_secret_hash).not.to.equal(before.client_secret_hash);
    expect(after.updated_at.getTime()).to.be.at.least(before.updated_at.getTime());
    const found = await clients.findById('web-app');
    expect(hasher.verify('web-app', 'the-new-secret', found!.secretHash!)).to.equal(true);
    expect(hasher.verify('web-app', SECRET, found!.secretHash!)).to.equal(false);
    expect(await clients.setSecret('nope', 'x')).to.equal(false);
  });

  it('removes a client and says whether it existed', async () => {
    await clients.create(webApp);
    expect(await clients.remove('web-app')).to.equal(true);
    expect(await clients.findById('web-app')).to.equal(undefined);
    expect(await clients.remove('web-app')).to.equal(false);
  });
});
