// One contract suite for the short-lived store, run against the real Redis and the in-process store.
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import type { ShortLivedStore } from '../../src/storage/short-lived/short-lived-store.js';
import { createRedisStore } from '../../src/storage/short-lived/redis-store.js';
import { connectRedis } from '../../src/storage/short-lived/connect-redis.js';
import { isStoreUnavailable } from '../../src/storage/store-unavailable.js';
import { memoryBackend, redisBackend, type Backend, type BackendFactory } from '../helpers/short-lived-backends.js';

const id = () => randomUUID();

function contract(factory: BackendFactory): void {
  describe(`short-lived store contract: ${factory.name}`, () => {
    let backend: Backend;
    let store: ShortLivedStore;

    before(() => factory.setUp());
    after(() => factory.tearDown());
    beforeEach(async () => {
      backend = await factory.open();
      store = backend.store;
    });

    describe('model entries', () => {
      it('round-trips a payload and hands out copies', async () => {
        const jti = id();
        await store.upsertModel('AccessToken', jti, { jti, scope: 'openid', nested: { list: [] } }, { expiresIn: 60 });
        const found = await store.findModel('AccessToken', jti);
        expect(found).to.deep.equal({ jti, scope: 'openid', nested: { list: [] } });
        (found as Record<string, unknown>).scope = 'changed';
        expect((await store.findModel('AccessToken', jti))?.scope).to.equal('openid');
        expect(await store.findModel('AccessToken', id())).to.equal(undefined);
        expect(await store.findModel('RefreshToken', jti)).to.equal(undefined, 'models are namespaced');
      });

      it('expires entries and their indexes after expiresIn, and keeps entries without one', async () => {
        const [short, long] = [id(), id()];
        const uid = id();
        await store.upsertModel('Session', short, { uid }, { expiresIn: 1, uid });
        await store.upsertModel('Session', long, { kept: true });
        await backend.advance(1.3);
        expect(await store.findModel('Session', short)).to.equal(undefined);
        expect(await store.findModelByUid('Session', uid)).to.equal(undefined);
        expect(await store.findModel('Session', long)).to.deep.equal({ kept: true });
      });

      it('reads an entry with its grant and, when it expires with its session, that session, in one read', async () => {
        const [code, grantId, session, uid] = [id(), id(), id(), id()];
        await store.upsertModel('Grant', grantId, { jti: grantId, accountId: 'alice' }, { expiresIn: 60 });
        await store.upsertModel('Session', session, { jti: session, uid }, { expiresIn: 60, uid });
        await store.upsertModel('AuthorizationCode', code, { jti: code, grantId, sessionUid: uid, expiresWithSession: true, consumed: 7 }, { expiresIn: 60, grantId });
        expect(await store.findModelWithRelated('AuthorizationCode', code)).to.deep.equal({
          payload: { jti: code, grantId, sessionUid: uid, expiresWithSession: true, consumed: 7 },
          grant: { id: grantId, payload: { jti: grantId, accountId: 'alice' } },
          session: { uid, payload: { jti: session, uid } },
        });
        // Not bound to its session: the session is not read. A grant or session that is gone is said to be gone.
        const token = id();
        await store.upsertModel('AccessToken', token, { jti: token, grantId: id(), sessionUid: uid }, { expiresIn: 60 });
        const unbound = await store.findModelWithRelated('AccessToken', token);
        expect(unbound?.session).to.equal(undefined);
        expect(unbound?.grant?.payload).to.equal(undefined);
        await store.destroyModel('Session', session);
        expect((await store.findModelWithRelated('AuthorizationCode', code))?.session).to.deep.equal({ uid, payload: undefined });
        // Nothing named, nothing read; nothing stored, nothing found.
        const plain = id();
        await store.upsertModel('AccessToken', plain, { jti: plain }, { expiresIn: 60 });
        expect(await store.findModelWithRelated('AccessToken', plain)).to.deep.equal({ payload: { jti: plain } });
        expect(await store.findModelWithRelated('AccessToken', id())).to.equal(undefined);
      });

      it('finds by uid and by user code, per model', async () => {
        const [session, device, uid, userCode] = [id(), id(), id(), 'ABCD-EFGH'];
        await store.upsertModel('Session', session, { uid }, { expiresIn: 60, uid });
        await store.upsertModel('DeviceCode', device, { userCode }, { expiresIn: 60, userCode });
        expect(await store.findModelByUid('Session', uid)).to.deep.equal({ uid });
        expect(await store.findModelByUserCode('DeviceCode', userCode)).to.deep.equal({ userCode });
        expect(await store.findModelByUid('Interaction', uid)).to.equal(undefined);
        expect(await store.findModelByUserCode('DeviceCode', 'ZZZZ-ZZZZ')).to.equal(undefined);
      });

      it('removes indexes on destroy, so re-creating the id without them is not found through them', async () => {
        const [session, uid, grantId] = [id(), id(), id()];
        await store.upsertModel('Session', session, { uid }, { expiresIn: 60, uid });
        await store.upsertModel('AccessToken', session, { grantId }, { expiresIn: 60, grantId });
        await store.destroyModel('Session', session);
        await store.destroyModel('AccessToken', session);
        expect(await store.findModel('Session', session)).to.equal(undefined);
        await store.upsertModel('Session', session, { plain: true }, { expiresIn: 60 });
        await store.upsertModel('AccessToken', session, { plain: true }, { expiresIn: 60 });
        expect(await store.findModelByUid('Session', uid)).to.equal(undefined, 'stale uid index');
        expect(await store.revokeByGrantId(grantId)).to.equal(0, 'stale grant index');
        expect(await store.findModel('AccessToken', session)).to.deep.equal({ plain: true });
        await store.destroyModel('Session', id()); // a missing entry is not an error
      });

      it('moves indexes on upsert and leaves an index that another entry took over', async () => {
        const [first, second, oldUid, newUid, shared] = [id(), id(), id(), id(), id()];
        await store.upsertModel('Session', first, { uid: oldUid }, { expiresIn: 60, uid: oldUid });
        await store.upsertModel('Session', first, { uid: newUid }, { expiresIn: 60, uid: newUid });
        expect(await store.findModelByUid('Session', oldUid)).to.equal(undefined);
        expect(await store.findModelByUid('Session', newUid)).to.deep.equal({ uid: newUid });

        await store.upsertModel('Session', first, { n: 1 }, { expiresIn: 60, uid: shared });
        await store.upsertModel('Session', second, { n: 2 }, { expiresIn: 60, uid: shared });
        await store.destroyModel('Session', first);
        expect(await store.findModelByUid('Session', shared)).to.deep.equal({ n: 2 });
      });
    });

    describe('consume', () => {
      it('marks the entry consumed once, keeps it, and reports a missing entry', async () => {
        const code = id();
        await store.upsertModel('AuthorizationCode', code, { jti: code }, { expiresIn: 60 });
        const before = Math.floor(Date.now() / 1000);
        expect(await store.consumeModel('AuthorizationCode', code)).to.equal('consumed');
        const found = await store.findModel('AuthorizationCode', code);
        expect(found?.jti).to.equal(code);
        expect(found?.consumed).to.be.a('number');
        expect(await store.consumeModel('AuthorizationCode', code)).to.equal('already-consumed');
        expect((await store.findModel('AuthorizationCode', code))?.consumed).to.equal(found?.consumed);
        if (factory.name === 'Redis store') expect(found?.consumed).to.be.within(before, before + 5);

        const missing = id();
        expect(await store.consumeModel('AuthorizationCode', missing)).to.equal('not-found');
        expect(await store.findModel('AuthorizationCode', missing)).to.equal(undefined, 'consume must not create entries');
      });

      it('lets exactly one of 20 concurrent consumes win', async () => {
        const code = id();
        await store.upsertModel('RefreshToken', code, { jti: code }, { expiresIn: 60 });
        const handles = [store, await backend.sibling(), await backend.sibling(), await backend.sibling()];
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => handles[i % handles.length]!.consumeModel('RefreshToken', code)),
        );
        expect(results.filter((r) => r === 'consumed')).to.have.length(1);
        expect(results.filter((r) => r === 'already-consumed')).to.have.length(19);
      });

      it('keeps a consumed mark given in the payload, and a plain upsert resets it', async () => {
        const [marked, plain] = [id(), id()];
        await store.upsertModel('AuthorizationCode', marked, { consumed: 1_700_000_000 }, { expiresIn: 60 });
        expect((await store.findModel('AuthorizationCode', marked))?.consumed).to.equal(1_700_000_000);
        expect(await store.consumeModel('AuthorizationCode', marked)).to.equal('already-consumed');

        await store.upsertModel('AuthorizationCode', plain, { v: 1 }, { expiresIn: 60 });
        await store.consumeModel('AuthorizationCode', plain);
        await store.upsertModel('AuthorizationCode', plain, { v: 2 }, { expiresIn: 60 });
        expect(await store.findModel('AuthorizationCode', plain)).to.deep.equal({ v: 2 });
      });
    });

    describe('revokeByGrantId', () => {
      it("removes all and only that grant's entries, with their indexes", async () => {
        const [grant, other] = [id(), id()];
        const [access, refresh, code, device, otherAccess, loose] = [id(), id(), id(), id(), id(), id()];
        await store.upsertModel('AccessToken', access, { grantId: grant }, { expiresIn: 60, grantId: grant });
        await store.upsertModel('RefreshToken', refresh, { grantId: grant }, { expiresIn: 600, grantId: grant });
        await store.upsertModel('AuthorizationCode', code, { grantId: grant }, { expiresIn: 10, grantId: grant });
        await store.upsertModel('DeviceCode', device, { grantId: grant }, { expiresIn: 60, grantId: grant, userCode: 'WXYZ' });
        await store.upsertModel('AccessToken', otherAccess, { grantId: other }, { expiresIn: 60, grantId: other });
        await store.upsertModel('AccessToken', loose, { grantId: grant }, { expiresIn: 60 });

        expect(await store.revokeByGrantId(grant)).to.equal(4);
        for (const [model, key] of [['AccessToken', access], ['RefreshToken', refresh], ['AuthorizationCode', code], ['DeviceCode', device]] as const) {
          expect(await store.findModel(model, key), model).to.equal(undefined);
        }
        expect(await store.findModelByUserCode('DeviceCode', 'WXYZ')).to.equal(undefined);
        expect(await store.findModel('AccessToken', otherAccess)).to.deep.equal({ grantId: other });
        expect(await store.findModel('AccessToken', loose)).to.deep.equal({ grantId: grant }, 'not indexed: not revoked');
        expect(await store.revokeByGrantId(grant)).to.equal(0);
      });

      it('keeps the grant index alive as long as its longest-lived member', async () => {
        const [shortFirst, longFirst] = [id(), id()];
        const [a, b, c, d] = [id(), id(), id(), id()];
        await store.upsertModel('AuthorizationCode', a, {}, { expiresIn: 1, grantId: shortFirst });
        await store.upsertModel('RefreshToken', b, {}, { expiresIn: 600, grantId: shortFirst });
        await store.upsertModel('RefreshToken', c, {}, { expiresIn: 600, grantId: longFirst });
        await store.upsertModel('AuthorizationCode', d, {}, { expiresIn: 1, grantId: longFirst });
        await backend.advance(1.3);
        expect(await store.revokeByGrantId(shortFirst)).to.equal(1);
        expect(await store.revokeByGrantId(longFirst)).to.equal(1);
        expect(await store.findModel('RefreshToken', b)).to.equal(undefined);
        expect(await store.findModel('RefreshToken', c)).to.equal(undefined);
      });
    });

    describe('revokeByClientId', () => {
      const grantOf = async (clientId: string, expiresIn = 600) => {
        const grantId = id();
        await store.upsertModel('Grant', grantId, { clientId }, { expiresIn, clientId });
        const [access, refresh] = [id(), id()];
        await store.upsertModel('AccessToken', access, { grantId }, { expiresIn: 60, grantId });
        await store.upsertModel('RefreshToken', refresh, { grantId }, { expiresIn, grantId });
        return { grantId, access, refresh };
      };
      const gone = async (grant: { grantId: string; access: string; refresh: string }) =>
        (await store.findModel('Grant', grant.grantId)) === undefined
        && (await store.findModel('AccessToken', grant.access)) === undefined
        && (await store.findModel('RefreshToken', grant.refresh)) === undefined;

      it("revokes every grant of the client with its tokens, and only that client's", async () => {
        const [client, other] = [id(), id()];
        const [first, second, others] = [await grantOf(client), await grantOf(client), await grantOf(other)];
        const loose = id();
        await store.upsertModel('Grant', loose, { clientId: client }, { expiresIn: 60 });

        expect(await store.revokeByClientId(client)).to.equal(2);
        expect(await gone(first)).to.equal(true);
        expect(await gone(second)).to.equal(true);
        expect(await gone(others)).to.equal(false);
        expect(await store.findModel('AccessToken', others.access)).to.deep.equal({ grantId: others.grantId });
        expect(await store.findModel('Grant', loose)).to.deep.equal({ clientId: client }, 'not indexed: not revoked');
        expect(await store.revokeByClientId(client)).to.equal(0);
        expect(await store.revokeByClientId(other)).to.equal(1);
      });

      it('keeps the client index alive as long as its longest-lived grant', async () => {
        const client = id();
        await grantOf(client, 1);
        const long = await grantOf(client, 600);
        await grantOf(client, 1);
        await backend.advance(1.3);
        expect(await store.revokeByClientId(client)).to.equal(1);
        expect(await gone(long)).to.equal(true);
      });

      it('forgets a destroyed grant, and a grant re-saved for another client', async () => {
        const [client, other] = [id(), id()];
        const destroyed = await grantOf(client);
        await store.destroyModel('Grant', destroyed.grantId);
        const moved = await grantOf(client);
        await store.upsertModel('Grant', moved.grantId, { clientId: other }, { expiresIn: 600, clientId: other });
        expect(await store.revokeByClientId(client)).to.equal(0);
        expect(await store.findModel('AccessToken', destroyed.access)).to.deep.equal({ grantId: destroyed.grantId }, 'tokens of a grant not revoked stay');
        expect(await store.revokeByClientId(other)).to.equal(1);
        expect(await gone(moved)).to.equal(true);
      });

      it('misses no grant saved while a revocation runs: each is revoked then, or indexed for the next one', async () => {
        const client = id();
        const handles = [store, await backend.sibling(), await backend.sibling()];
        const grantIds = Array.from({ length: 30 }, () => id());
        const saves = grantIds.map((grantId, i) =>
          handles[i % handles.length]!.upsertModel('Grant', grantId, { clientId: client }, { expiresIn: 600, clientId: client }));
        const [first] = await Promise.all([handles[1]!.revokeByClientId(client), ...saves]);
        const second = await store.revokeByClientId(client);
        expect(first + second).to.equal(grantIds.length);
        for (const grantId of grantIds) expect(await store.findModel('Grant', grantId)).to.equal(undefined);
      });
    });

    describe('revokeByAccountId', () => {
      const sessionOf = async (accountId: string | undefined, expiresIn = 600) => {
        const [sessionId, uid] = [id(), id()];
        await store.upsertModel('Session', sessionId, { uid, accountId }, { expiresIn, uid, accountId });
        return { sessionId, uid };
      };
      const grantOf = async (accountId: string, clientId = id(), expiresIn = 600) => {
        const grantId = id();
        await store.upsertModel('Grant', grantId, { accountId, clientId }, { expiresIn, clientId, accountId });
        const [access, refresh] = [id(), id()];
        await store.upsertModel('AccessToken', access, { grantId }, { expiresIn: 60, grantId });
        await store.upsertModel('RefreshToken', refresh, { grantId }, { expiresIn, grantId });
        return { grantId, clientId, access, refresh };
      };
      const sessionGone = async (session: { sessionId: string; uid: string }) =>
        (await store.findModel('Session', session.sessionId)) === undefined && (await store.findModelByUid('Session', session.uid)) === undefined;
      const grantGone = async (grant: { grantId: string; access: string; refresh: string }) =>
        (await store.findModel('Grant', grant.grantId)) === undefined
        && (await store.findModel('AccessToken', grant.access)) === undefined
        && (await store.findModel('RefreshToken', grant.refresh)) === undefined;
      const grantKept = async (grant: { grantId: string; access: string; refresh: string }) =>
        (await store.findModel('Grant', grant.grantId)) !== undefined
        && (await store.findModel('AccessToken', grant.access)) !== undefined
        && (await store.findModel('RefreshToken', grant.refresh)) !== undefined;

      it("deletes every session and revokes every grant of the account with its tokens, and only that account's", async () => {
        const [account, other] = [id(), id()];
        const sessions = [await sessionOf(account), await sessionOf(account)];
        const grants = [await grantOf(account), await grantOf(account)];
        const [otherSession, otherGrant, anonymous] = [await sessionOf(other), await grantOf(other), await sessionOf(undefined)];
        const loose = id();
        await store.upsertModel('Grant', loose, { accountId: account }, { expiresIn: 60 });

        expect(await store.revokeByAccountId(account)).to.deep.equal({ sessions: 2, grants: 2 });
        for (const session of sessions) expect(await sessionGone(session)).to.equal(true);
        for (const grant of grants) expect(await grantGone(grant)).to.equal(true);
        expect(await store.revokeByClientId(grants[0]!.clientId)).to.equal(0, 'nothing left for its client');
        expect(await store.findModelByUid('Session', otherSession.uid)).to.deep.equal({ uid: otherSession.uid, accountId: other });
        expect(await grantKept(otherGrant)).to.equal(true);
        expect(await sessionGone(anonymous)).to.equal(false, 'a session nobody has signed in to yet is not indexed');
        expect(await store.findModel('Grant', loose)).to.deep.equal({ accountId: account }, 'not indexed: not revoked');
        expect(await store.revokeByAccountId(account)).to.deep.equal({ sessions: 0, grants: 0 });
        expect(await store.revokeByAccountId(other)).to.deep.equal({ sessions: 1, grants: 1 });
        expect(await grantGone(otherGrant)).to.equal(true);
      });

      it('spares the session named by its uid and the grants named by id, which a later call still revokes', async () => {
        const account = id();
        const [current, elsewhere] = [await sessionOf(account), await sessionOf(account)];
        const [own, second, other] = [await grantOf(account), await grantOf(account), await grantOf(account)];

        const first = await store.revokeByAccountId(account, { exceptSessionUid: current.uid, keepGrantIds: [own.grantId, second.grantId] });
        expect(first).to.deep.equal({ sessions: 1, grants: 1 });
        expect(await sessionGone(elsewhere)).to.equal(true);
        expect(await sessionGone(current)).to.equal(false);
        expect(await grantKept(own)).to.equal(true);
        expect(await grantKept(second)).to.equal(true);
        expect(await grantGone(other)).to.equal(true);

        expect(await store.revokeByAccountId(account, { exceptSessionUid: id(), keepGrantIds: [second.grantId] })).to.deep.equal({ sessions: 1, grants: 1 });
        expect(await sessionGone(current)).to.equal(true);
        expect(await grantGone(own)).to.equal(true);
        expect(await store.revokeByAccountId(account)).to.deep.equal({ sessions: 0, grants: 1 });
        expect(await grantGone(second)).to.equal(true);
      });

      it('forgets a destroyed session, and a session or grant re-saved for another account or without one', async () => {
        const [account, other] = [id(), id()];
        const destroyed = await sessionOf(account);
        await store.destroyModel('Session', destroyed.sessionId);
        const moved = await sessionOf(account);
        await store.upsertModel('Session', moved.sessionId, { uid: moved.uid, accountId: other }, { expiresIn: 600, uid: moved.uid, accountId: other });
        const signedOut = await sessionOf(account);
        await store.upsertModel('Session', signedOut.sessionId, { uid: signedOut.uid }, { expiresIn: 600, uid: signedOut.uid });
        const grant = await grantOf(account);
        await store.upsertModel('Grant', grant.grantId, { accountId: other }, { expiresIn: 600, accountId: other });

        expect(await store.revokeByAccountId(account)).to.deep.equal({ sessions: 0, grants: 0 });
        expect(await sessionGone(signedOut)).to.equal(false);
        expect(await store.revokeByAccountId(other)).to.deep.equal({ sessions: 1, grants: 1 });
        expect(await sessionGone(moved)).to.equal(true);
        expect(await grantGone(grant)).to.equal(true);
      });

      it('keeps what it ended ended: a save of the same id by a request that read it before does nothing', async () => {
        const account = id();
        const [current, ended] = [await sessionOf(account), await sessionOf(account, 1)];
        const grant = await grantOf(account);
        await store.revokeByAccountId(account, { exceptSessionUid: current.uid });
        // As oidc-provider does at the end of a request that loaded them before the revocation.
        await store.upsertModel('Session', ended.sessionId, { uid: ended.uid, accountId: account }, { expiresIn: 600, uid: ended.uid, accountId: account });
        await store.upsertModel('Grant', grant.grantId, { accountId: account }, { expiresIn: 600, clientId: grant.clientId, accountId: account });
        expect(await sessionGone(ended)).to.equal(true);
        expect(await store.findModel('Grant', grant.grantId)).to.equal(undefined);
        expect(await store.revokeByClientId(grant.clientId)).to.equal(0);

        await store.upsertModel('Session', current.sessionId, { uid: current.uid, accountId: account, n: 2 }, { expiresIn: 600, uid: current.uid, accountId: account });
        expect(await store.findModel('Session', current.sessionId)).to.include({ n: 2 }, 'the spared session is saved as ever');
        expect(await store.revokeByAccountId(account)).to.deep.equal({ sessions: 1, grants: 0 });
        // The mark lasts as long as the entry had to live (here 1 second), not for ever.
        await backend.advance(1.3);
        await store.upsertModel('Session', ended.sessionId, { uid: ended.uid, accountId: account }, { expiresIn: 600, uid: ended.uid, accountId: account });
        expect(await store.findModel('Session', ended.sessionId)).not.to.equal(undefined);
      });

      it("keeps a logged-out session ended: a request that read it before cannot save it back, for the session's lifetime", async () => {
        const account = id();
        const [loggedOut, anonymous] = [await sessionOf(account, 1), await sessionOf(undefined)];
        await store.destroyModel('Session', loggedOut.sessionId);
        await store.destroyModel('Session', anonymous.sessionId);
        // As oidc-provider does at the end of a request (a page of /account, an authorization) that loaded it before.
        await store.upsertModel('Session', loggedOut.sessionId, { uid: loggedOut.uid, accountId: account }, { expiresIn: 600, uid: loggedOut.uid, accountId: account });
        expect(await sessionGone(loggedOut)).to.equal(true);
        await store.upsertModel('Session', anonymous.sessionId, { uid: anonymous.uid }, { expiresIn: 600, uid: anonymous.uid });
        expect(await store.findModel('Session', anonymous.sessionId), 'a session of nobody is not marked').not.to.equal(undefined);
        await backend.advance(1.3);
        await store.upsertModel('Session', loggedOut.sessionId, { uid: loggedOut.uid, accountId: account }, { expiresIn: 600, uid: loggedOut.uid, accountId: account });
        expect(await store.findModel('Session', loggedOut.sessionId), 'the mark lasts as long as the session had to').not.to.equal(undefined);
      });

      it('keeps the account index alive as long as its longest-lived session or grant', async () => {
        const [shortFirst, longFirst] = [id(), id()];
        await sessionOf(shortFirst, 1);
        const longSession = await sessionOf(shortFirst, 600);
        const longGrant = await grantOf(longFirst, id(), 600);
        await sessionOf(longFirst, 1);
        await backend.advance(1.3);
        expect(await store.revokeByAccountId(shortFirst)).to.deep.equal({ sessions: 1, grants: 0 });
        expect(await store.revokeByAccountId(longFirst)).to.deep.equal({ sessions: 0, grants: 1 });
        expect(await sessionGone(longSession)).to.equal(true);
        expect(await grantGone(longGrant)).to.equal(true);
      });

      it('misses no session saved while a revocation runs: each is deleted then, or indexed for the next one', async () => {
        const account = id();
        const handles = [store, await backend.sibling(), await backend.sibling()];
        const sessionIds = Array.from({ length: 30 }, () => id());
        const saves = sessionIds.map((sessionId, i) =>
          handles[i % handles.length]!.upsertModel('Session', sessionId, { accountId: account }, { expiresIn: 600, uid: sessionId, accountId: account }));
        const [first] = await Promise.all([handles[1]!.revokeByAccountId(account), ...saves]);
        const second = await store.revokeByAccountId(account);
        expect(first.sessions + second.sessions).to.equal(sessionIds.length);
        for (const sessionId of sessionIds) expect(await store.findModel('Session', sessionId)).to.equal(undefined);
      });
    });

    describe('generic helpers', () => {
      it('stores JSON with a TTL, as JSON (copies, Dates become strings)', async () => {
        const key = id();
        await store.setJson(key, { at: new Date(0), list: [1, 2] }, 1);
        const value = await store.getJson<{ at: string; list: number[] }>(key);
        expect(value).to.deep.equal({ at: '1970-01-01T00:00:00.000Z', list: [1, 2] });
        value?.list.push(3);
        expect((await store.getJson<{ list: number[] }>(key))?.list).to.deep.equal([1, 2]);
        expect(await store.ttl(key)).to.equal(1);
        expect(await store.ttl(id())).to.equal(undefined);
        await backend.advance(1.3);
        expect(await store.getJson(key)).to.equal(undefined);
      });

      it('refuses values JSON cannot hold and TTLs that are not positive', async () => {
        const errors = await Promise.all([
          store.setJson(id(), undefined, 10).catch((err: unknown) => err),
          store.setJson(id(), 1, 0).catch((err: unknown) => err),
          store.increment(id(), -1).catch((err: unknown) => err),
        ]);
        expect(errors[0]).to.be.instanceOf(TypeError);
        expect(errors[1]).to.be.instanceOf(RangeError);
        expect(errors[2]).to.be.instanceOf(RangeError);
      });

      it('takeJson hands a value to exactly one of 20 concurrent takers', async () => {
        const key = id();
        await store.setJson(key, { code: '123456' }, 60);
        const handles = [store, await backend.sibling(), await backend.sibling()];
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => handles[i % handles.length]!.takeJson<{ code: string }>(key)),
        );
        expect(results.filter((r) => r !== undefined)).to.deep.equal([{ code: '123456' }]);
        expect(await store.getJson(key)).to.equal(undefined);
      });

      it('increment counts atomically and sets the TTL on creation only', async () => {
        const key = id();
        const counts = await Promise.all(Array.from({ length: 20 }, () => store.increment(key, 2)));
        expect([...counts].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
        await backend.advance(1.1);
        expect(await store.increment(key, 2)).to.equal(21);
        expect(await store.ttl(key)).to.equal(1, 'a later increment must not extend the window');
        await backend.advance(1.1);
        expect(await store.increment(key, 2)).to.equal(1);
        expect(await store.getJson(key)).to.equal(1);
      });

      it('remove deletes a key and says whether it existed', async () => {
        const key = id();
        await store.setJson(key, 'x', 60);
        expect(await store.remove(key)).to.equal(true);
        expect(await store.remove(key)).to.equal(false);
        expect(await store.getJson(key)).to.equal(undefined);
      });

      it('keeps generic keys apart from model entries', async () => {
        const key = id();
        await store.upsertModel('AccessToken', key, { model: true }, { expiresIn: 60 });
        await store.setJson(`oidc:AccessToken:${key}`, { generic: true }, 60);
        expect(await store.findModel('AccessToken', key)).to.deep.equal({ model: true });
      });
    });

    describe('lifecycle', () => {
      it('pings while open and fails after close', async () => {
        await store.ping();
        await store.close();
        const err = await store.ping().then(() => undefined, (e: unknown) => e);
        expect(err).to.be.instanceOf(Error);
      });
    });
  });
}

contract(redisBackend());
contract(memoryBackend());

describe('Redis store while Redis is down (connectRedis)', () => {
  function recordingLogger() {
    const lines: string[] = [];
    return {
      lines,
      warn: (obj: object, msg: string) => { lines.push(`warn ${msg} ${JSON.stringify(obj)}`); },
      info: (obj: object, msg: string) => { lines.push(`info ${msg} ${JSON.stringify(obj)}`); },
    };
  }

  it('fails fast with a store-unavailable error, logs once without the password, and keeps retrying', async () => {
    const logger = recordingLogger();
    const store = createRedisStore(connectRedis('redis://:hunter2@127.0.0.1:1/0', logger), { prefix: 'unused:' });
    try {
      const started = Date.now();
      const err = await store.ping().then(() => undefined, (e: unknown) => e);
      expect(Date.now() - started).to.be.below(2_500);
      expect(isStoreUnavailable(err), String(err)).to.equal(true);
      await sleep(700); // several reconnect attempts
      expect(logger.lines).to.have.length(1);
      expect(logger.lines[0]).to.match(/^warn redis unreachable/).and.not.match(/hunter2/);
    } finally {
      await store.close();
    }
  });

  it('gives up on a server that accepts but never answers, after the command timeout', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => { sockets.push(socket); });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const store = createRedisStore(connectRedis(`redis://127.0.0.1:${port}`), { prefix: 'unused:' });
    try {
      const started = Date.now();
      const err = await store.getJson('anything').then(() => undefined, (e: unknown) => e);
      expect(Date.now() - started).to.be.below(4_000);
      expect(isStoreUnavailable(err), String(err)).to.equal(true);
    } finally {
      await store.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
