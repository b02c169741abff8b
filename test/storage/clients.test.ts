// Client queries on a real Postgres schema: metadata round trip and secrets encrypted at rest.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
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
  let clients: ClientQueries;

  before(async () => {
    db = await createTestDatabase();
    cipher = createCipher(randomBytes(32));
    clients = createClientQueries(db.knex, cipher);
  });
  after(async () => db?.cleanup());
  beforeEach(async () => db.knex('clients').delete());

  const rawRow = async (clientId: string) => db.knex('clients').where({ client_id: clientId }).first();

  it('creates a client and finds it with its metadata and decrypted secret', async () => {
    const created = await clients.create(webApp);
    const found = await clients.findById('web-app');
    expect(found).to.deep.equal(created);
    expect(found).to.include({ clientId: 'web-app', name: 'Web app', clientSecret: SECRET, firstParty: true });
    expect(found!.metadata).to.deep.equal(webApp.metadata);
    expect(found!.createdAt).to.be.instanceOf(Date);
    expect(found!.updatedAt).to.be.instanceOf(Date);
  });

  it('stores the secret encrypted, bound to its client_id', async () => {
    await clients.create(webApp);
    const row = await rawRow('web-app');
    expect(row.client_secret_encrypted).to.be.a('string');
    expect(row.client_secret_encrypted).not.to.include(SECRET);
    expect(row.client_secret_encrypted).not.to.include(Buffer.from(SECRET).toString('base64url').slice(0, 16));
    expect(JSON.stringify(row.metadata)).not.to.include(SECRET);
    expect(cipher.decrypt(row.client_secret_encrypted, 'web-app')).to.equal(SECRET);
    expect(() => cipher.decrypt(row.client_secret_encrypted, 'other-app')).to.throw();
    expect(() => createCipher(randomBytes(32)).decrypt(row.client_secret_encrypted, 'web-app')).to.throw();
  });

  it('refuses a secret copied into another client row', async () => {
    await clients.create(webApp);
    await clients.create({ ...webApp, clientId: 'victim', clientSecret: 'victim-secret' });
    const { client_secret_encrypted } = await rawRow('web-app');
    await db.knex('clients').where({ client_id: 'victim' }).update({ client_secret_encrypted });
    let error: unknown;
    try {
      await clients.findById('victim');
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(Error);
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
    expect((await rawRow('spa')).client_secret_encrypted).to.equal(null);
    const found = await clients.findById('spa');
    expect(found).not.to.have.property('clientSecret');
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
    for (const client of list) expect(client).not.to.have.property('clientSecret');
  });

  it('replaces a secret (encrypted again) and says whether the client exists', async () => {
    await clients.create(webApp);
    const before = await rawRow('web-app');
    expect(await clients.setSecret('web-app', 'the-new-secret')).to.equal(true);
    const after = await rawRow('web-app');
    expect(after.client_secret_encrypted).not.to.include('the-new-secret');
    expect(after.client_secret_encrypted).not.to.equal(before.client_secret_encrypted);
    expect(after.updated_at.getTime()).to.be.at.least(before.updated_at.getTime());
    expect((await clients.findById('web-app'))?.clientSecret).to.equal('the-new-secret');
    expect(await clients.setSecret('nope', 'x')).to.equal(false);
  });

  it('removes a client and says whether it existed', async () => {
    await clients.create(webApp);
    expect(await clients.remove('web-app')).to.equal(true);
    expect(await clients.findById('web-app')).to.equal(undefined);
    expect(await clients.remove('web-app')).to.equal(false);
  });
});
