// The oidc-provider adapter on both short-lived stores, through its Adapter API and through a real Provider.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import Provider, { errors, type AdapterConstructor, type ClientMetadata } from 'oidc-provider';
import type { ModelPayload, ShortLivedStore } from '../../src/storage/short-lived/short-lived-store.js';
import { createRedisStore } from '../../src/storage/short-lived/redis-store.js';
import { createMemoryStore } from '../../src/storage/short-lived/memory-store.js';
import { createOidcAdapter, type ReadAhead } from '../../src/storage/oidc-adapter.js';
import { createTestRedis, type TestRedis } from '../helpers/redis.js';

interface StoreFactory {
  name: string;
  open(): Promise<ShortLivedStore>;
  close(): Promise<void>;
}

function redisStores(): StoreFactory {
  let test: TestRedis | undefined;
  return {
    name: 'Redis store',
    async open() {
      test ??= await createTestRedis();
      return createRedisStore(await test.connect(), { prefix: test.prefix });
    },
    async close() {
      await test?.cleanup();
    },
  };
}

function memoryStores(): StoreFactory {
  const opened: ShortLivedStore[] = [];
  return {
    name: 'memory store',
    async open() {
      const store = createMemoryStore();
      opened.push(store);
      return store;
    },
    async close() {
      await Promise.all(opened.map((store) => store.close()));
    },
  };
}

const APP: ClientMetadata = {
  client_id: 'app',
  client_secret: 'a-client-secret-that-is-long-enough-for-hs256',
  redirect_uris: ['https://app.example/cb'],
};

/** A real, recording client finder (no mocking library): the Postgres stand-in. */
function recordingFinder() {
  const asked: string[] = [];
  const find = async (id: string) => {
    asked.push(id);
    return id === APP.client_id ? { ...APP } : undefined;
  };
  return { asked, find };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => { throw new Error('expected a rejection'); }, (err: unknown) => err);
}

const id = () => randomUUID();

function adapterSuite(factory: StoreFactory): void {
  describe(`oidc adapter: ${factory.name}`, () => {
    let store: ShortLivedStore;
    let Adapter: AdapterConstructor;

    before(async () => {
      store = await factory.open();
      Adapter = createOidcAdapter(store);
    });
    after(() => factory.close());

    it('upserts, finds and destroys an entry by id', async () => {
      const adapter = new Adapter('AccessToken');
      const jti = id();
      await adapter.upsert(jti, { jti, accountId: 'alice', scope: 'openid' }, 60);
      expect(await adapter.find(jti)).to.deep.equal({ jti, accountId: 'alice', scope: 'openid' });
      expect(await new Adapter('RefreshToken').find(jti)).to.equal(undefined, 'one namespace per model');
      await adapter.destroy(jti);
      expect(await adapter.find(jti)).to.equal(undefined);
    });

    it('finds a Session by uid and a DeviceCode by user code', async () => {
      const [sessionId, uid, deviceId] = [id(), id(), id()];
      await new Adapter('Session').upsert(sessionId, { jti: sessionId, uid, accountId: 'alice' }, 60);
      await new Adapter('DeviceCode').upsert(deviceId, { jti: deviceId, userCode: 'BCDF-GHJK' }, 60);
      expect(await new Adapter('Session').findByUid(uid)).to.include({ jti: sessionId, accountId: 'alice' });
      expect(await new Adapter('DeviceCode').findByUserCode('BCDF-GHJK')).to.include({ jti: deviceId });
      expect(await new Adapter('Session').findByUid(id())).to.equal(undefined);
      await new Adapter('Session').destroy(sessionId);
      expect(await new Adapter('Session').findByUid(uid)).to.equal(undefined);
    });

    it('hands out a grant read ahead once, and forgets it when the grant is written or revoked meanwhile', async () => {
      const kept = new Map<string, unknown>();
      const readAhead: ReadAhead = {
        active: () => true,
        keep: (model, key, payload) => void kept.set(`${model} ${key}`, payload),
        take: (model, key) => {
          const name = `${model} ${key}`;
          if (!kept.has(name)) return { found: false };
          const payload = kept.get(name) as ModelPayload | undefined;
          kept.delete(name);
          return { found: true, payload };
        },
        forget: (model) => {
          for (const name of kept.keys()) if (name.startsWith(`${model} `)) kept.delete(name);
        },
      };
      const Ahead = createOidcAdapter(store, { readAhead });
      const [grantId, code] = [id(), id()];
      await new Ahead('Grant').upsert(grantId, { jti: grantId, accountId: 'alice' }, 60);
      await new Ahead('AuthorizationCode').upsert(code, { jti: code, grantId }, 60);
      expect(await new Ahead('AuthorizationCode').find(code)).to.deep.equal({ jti: code, grantId });
      await store.destroyModel('Grant', grantId);
      expect(await new Ahead('Grant').find(grantId)).to.deep.equal({ jti: grantId, accountId: 'alice' }, 'as read with the code');
      expect(await new Ahead('Grant').find(grantId)).to.equal(undefined, 'once only: then from the store');
      // A write to the grant in between drops what was read ahead.
      await new Ahead('Grant').upsert(grantId, { jti: grantId, accountId: 'alice' }, 60);
      await new Ahead('AuthorizationCode').find(code);
      await new Ahead('Grant').upsert(grantId, { jti: grantId, accountId: 'bob' }, 60);
      expect(await new Ahead('Grant').find(grantId)).to.deep.equal({ jti: grantId, accountId: 'bob' });
      // So does a revocation of the grant: what is found then is what the store holds.
      await new Ahead('AuthorizationCode').find(code);
      await store.destroyModel('Grant', grantId);
      await new Ahead('AccessToken').revokeByGrantId(grantId);
      expect(await new Ahead('Grant').find(grantId)).to.equal(undefined);
      // A session kept by its uid is dropped when a session is deleted, which is by id alone.
      const [sessionId, uid, bound] = [id(), id(), id()];
      await new Ahead('Session').upsert(sessionId, { jti: sessionId, uid }, 60);
      await new Ahead('AccessToken').upsert(bound, { jti: bound, sessionUid: uid, expiresWithSession: true }, 60);
      await new Ahead('AccessToken').find(bound);
      await new Ahead('Session').destroy(sessionId);
      expect(await new Ahead('Session').findByUid(uid)).to.equal(undefined);
      await new Ahead('Session').upsert(sessionId, { jti: sessionId, uid }, 60);
      await new Ahead('AccessToken').find(bound);
      expect(await new Ahead('Session').findByUid(uid)).to.deep.equal({ jti: sessionId, uid }, 'as read with the token');
    });

    it("revokeByGrantId removes the grant's tokens of every model, and not Interactions", async () => {
      const grantId = id();
      const tokens = [['AccessToken', id()], ['RefreshToken', id()], ['AuthorizationCode', id()]] as const;
      for (const [model, jti] of tokens) await new Adapter(model).upsert(jti, { jti, grantId }, 60);
      const interaction = id();
      await new Adapter('Interaction').upsert(interaction, { jti: interaction, grantId }, 60);
      const otherGrant = id();
      await new Adapter('AccessToken').upsert(otherGrant, { jti: otherGrant, grantId: id() }, 60);

      await new Adapter('AccessToken').revokeByGrantId(grantId);
      for (const [model, jti] of tokens) expect(await new Adapter(model).find(jti), model).to.equal(undefined);
      expect(await new Adapter('Interaction').find(interaction)).to.include({ grantId });
      expect(await new Adapter('AccessToken').find(otherGrant)).to.include({ jti: otherGrant });
    });

    it("indexes Sessions and Grants by accountId, so revokeByAccountId ends them and the grants' tokens, not other models", async () => {
      const [accountId, sessionId, grantId, accessToken, interaction] = [id(), id(), id(), id(), id()];
      await new Adapter('Session').upsert(sessionId, { jti: sessionId, uid: id(), accountId }, 60);
      await new Adapter('Grant').upsert(grantId, { jti: grantId, accountId, clientId: 'app' }, 60);
      await new Adapter('AccessToken').upsert(accessToken, { jti: accessToken, accountId, grantId }, 60);
      await new Adapter('Interaction').upsert(interaction, { jti: interaction, accountId }, 60);

      expect(await store.revokeByAccountId(accountId)).to.deep.equal({ sessions: 1, grants: 1 });
      expect(await new Adapter('Session').find(sessionId)).to.equal(undefined);
      expect(await new Adapter('Grant').find(grantId)).to.equal(undefined);
      expect(await new Adapter('AccessToken').find(accessToken)).to.equal(undefined);
      expect(await new Adapter('Interaction').find(interaction)).to.include({ accountId });
    });

    it('consume marks the code once; concurrent replays get invalid_grant and revoke the grant', async () => {
      const [code, grantId, accessToken] = [id(), id(), id()];
      const codes = new Adapter('AuthorizationCode');
      await codes.upsert(code, { jti: code, grantId }, 60);
      await new Adapter('AccessToken').upsert(accessToken, { jti: accessToken, grantId }, 60);

      const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => codes.consume(code)));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).to.have.length(1);
      const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      expect(refused).to.have.length(19);
      for (const err of refused) {
        expect(err).to.be.instanceOf(errors.InvalidGrant);
        expect(err).to.include({ error_detail: 'authorization code already consumed' });
      }
      expect(await new Adapter('AccessToken').find(accessToken)).to.equal(undefined, 'replay revokes the grant');
    });

    it('consume refuses a missing code, and a used request_uri', async () => {
      const err = await rejection(new Adapter('RefreshToken').consume(id()));
      expect(err).to.be.instanceOf(errors.InvalidGrant);
      expect(err).to.include({ error_detail: 'refresh token not found' });
      expect(await new Adapter('RefreshToken').find(id())).to.equal(undefined);

      const par = id();
      await new Adapter('PushedAuthorizationRequest').upsert(par, { jti: par }, 60);
      await new Adapter('PushedAuthorizationRequest').consume(par);
      expect((await new Adapter('PushedAuthorizationRequest').find(par))?.consumed).to.be.a('number');
      expect(await rejection(new Adapter('PushedAuthorizationRequest').consume(par))).to.be.instanceOf(errors.InvalidRequestUri);
    });

    it('stores Client like any other model when no clientFinder is given', async () => {
      const clients = new Adapter('Client');
      const clientId = id();
      await clients.upsert(clientId, { client_id: clientId, redirect_uris: ['https://x.example/cb'] });
      expect(await clients.find(clientId)).to.deep.equal({ client_id: clientId, redirect_uris: ['https://x.example/cb'] });
      await clients.destroy(clientId);
      expect(await clients.find(clientId)).to.equal(undefined);
    });

    it('delegates Client reads to clientFinder and refuses Client writes', async () => {
      const finder = recordingFinder();
      const clients = new (createOidcAdapter(store, { clientFinder: finder.find }))('Client');
      expect(await clients.find('app')).to.deep.equal(APP);
      expect(await clients.find('nobody')).to.equal(undefined);
      expect(finder.asked).to.deep.equal(['app', 'nobody']);

      const writes = [clients.upsert('sneaky', { client_id: 'sneaky' }), clients.destroy('app')];
      for (const err of await Promise.all(writes.map(rejection))) {
        expect(err).to.be.instanceOf(Error).with.property('message').that.matches(/Postgres/);
      }
      expect(await store.findModel('Client', 'sneaky')).to.equal(undefined);
    });

    it('serves a real oidc-provider: client lookup and the authorization code save/find/consume round trip', async () => {
      const finder = recordingFinder();
      const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
      const provider = new Provider('https://id.example', {
        adapter: createOidcAdapter(store, { clientFinder: finder.find }),
        jwks: { keys: [{ ...key, kid: 'test', alg: 'ES256', use: 'sig' }] },
        clientDefaults: { id_token_signed_response_alg: 'ES256' },
        features: { devInteractions: { enabled: false } },
      });

      const client = await provider.Client.find('app');
      if (!client) throw new Error('the provider did not find the client through clientFinder');
      expect(client.clientId).to.equal('app');
      expect(finder.asked).to.include('app');

      const grantId = id();
      const value = await new provider.AuthorizationCode({
        accountId: 'alice', client, grantId, gty: 'authorization_code', redirectUri: 'https://app.example/cb', scope: 'openid',
      }).save();
      const found = await provider.AuthorizationCode.find(value);
      expect(found).to.include({ accountId: 'alice', clientId: 'app', grantId, scope: 'openid' });
      expect(found?.isValid).to.equal(true);

      await found?.consume();
      const again = await provider.AuthorizationCode.find(value);
      expect(again?.isValid).to.equal(false);
      expect((await store.findModel('AuthorizationCode', value))?.consumed).to.be.a('number');

      await provider.AuthorizationCode.revokeByGrantId(grantId);
      expect(await provider.AuthorizationCode.find(value)).to.equal(undefined);
    });
  });
}

adapterSuite(redisStores());
adapterSuite(memoryStores());
