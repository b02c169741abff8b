// Signing key rotation on two nodes of one database: new keys are published everywhere before any node signs with
// them, every node switches at the sign-from time, and the old key stays published until its tokens have expired.
import { expect } from 'chai';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { createClient, createUser, startTestApp, type TestApp } from '../helpers/app.js';
import { Rotation } from '../helpers/nodes.js';
import { discoverClient, signIn } from '../helpers/relying-party.js';
import { publicationAfterRetirement } from '../../src/oidc/key-schedule.js';
import { rotateSigningKeys } from '../../src/oidc/rotate-signing-keys.js';
import { createAuditLog } from '../../src/security/audit.js';
import { createLogger } from '../../src/logger.js';
import { within } from '../helpers/within.js';

const PASSWORD = 'key rotation password 1';
// Short, so the test sees the switch; the CLI insists on at least MIN_ACTIVATION_SECONDS.
const ACTIVATE_IN_SECONDS = 4;
const REFRESH_MS = 200;

type Jwk = { kid: string; alg: string; key_ops?: string[]; d?: string };

/** The key of `alg` that a JWKS offers for signing: the first one not limited to verifying. */
const signingKidOf = (keys: Jwk[], alg: string) => keys.find((key) => key.alg === alg && !key.key_ops)?.kid;

// A timer may fire a little early by Date.now() (libuv counts from the loop's cached time), so wait again until it is.
async function sleepUntil(time: number): Promise<void> {
  while (Date.now() < time) await new Promise((resolve) => setTimeout(resolve, time - Date.now()));
}

describe('signing key rotation on two nodes', function () {
  this.timeout(60_000);
  // The nodes' clock for their keys: real time, moved on by `ahead` to reach the end of a publication window.
  let ahead = 0;
  const now = () => Date.now() + ahead;
  let a: TestApp;
  let b: TestApp;
  let client: Awaited<ReturnType<typeof createClient>>;

  before(async function () {
    a = await startTestApp({}, { signingKeys: { refreshMs: REFRESH_MS, now } });
    b = await startTestApp({}, { join: a, signingKeys: { refreshMs: REFRESH_MS, now } });
    client = await createClient(a);
    await createUser(a, { username: 'rosa', password: PASSWORD });
  });
  after(async function () {
    await b?.close();
    await a?.close();
  });

  const jwksOf = async (node: TestApp) => ((await (await fetch(`${node.issuer}/jwks`)).json()) as { keys: Jwk[] }).keys;
  const kidsOf = async (node: TestApp) => (await jwksOf(node)).map((key) => key.kid);

  /** An ID token from a sign-in whose every request goes to `node`, with the times around it. */
  async function idTokenFrom(node: TestApp): Promise<{ jwt: string; kid: string; startedAt: number; doneAt: number }> {
    const rp = await discoverClient(a.issuer, client);
    const rotation = new Rotation(a.issuer, [node]);
    rotation.attach(rp.config);
    const startedAt = Date.now();
    const { tokens } = await signIn(rotation.browser(), rp, 'rosa', PASSWORD, { prompt: 'login' });
    const doneAt = Date.now();
    const jwt = tokens.id_token!;
    return { jwt, kid: decodeProtectedHeader(jwt).kid!, startedAt, doneAt };
  }

  /** Whether `jwt` verifies against the JWKS `node` publishes now. */
  async function verifiesOn(node: TestApp, jwt: string): Promise<boolean> {
    const jwks = createLocalJWKSet({ keys: await jwksOf(node) } as JSONWebKeySet);
    return jwtVerify(jwt, jwks, { issuer: a.issuer, audience: client.clientId }).then(() => true, () => false);
  }

  it('publishes new keys on both nodes before either signs with them, switches both at the sign-from time, and keeps the old key published until its tokens have expired', async function () {
    // Before: both nodes publish the same keys and sign with the same RS256 key.
    const before = await jwksOf(a);
    expect(await jwksOf(b)).to.deep.equal(before);
    const oldRsa = before.find((key) => key.alg === 'RS256')!.kid;
    expect((await idTokenFrom(a)).kid).to.equal(oldRsa);
    expect((await idTokenFrom(b)).kid).to.equal(oldRsa);

    const audit = createAuditLog(a.queries, createLogger('silent'));
    const rotated = await rotateSigningKeys(
      { queries: a.queries, audit, origin: { ip: 'test', userAgent: undefined, clientId: undefined } },
      { activateIn: ACTIVATE_IN_SECONDS, idTokenTtl: a.config.lifetimes.idToken, now: new Date(now()) },
    );
    if (rotated.status !== 'ROTATED') throw new Error(`expected a rotation, got ${rotated.status}`);
    const newRsa = rotated.added.find((key) => key.alg === 'RS256')!;
    const newEc = rotated.added.find((key) => key.alg === 'ES256')!;
    const signFrom = newRsa.signFrom.getTime();

    // Published by both nodes (reloaded from Postgres, no restart), well before the sign-from time, as verify-only keys.
    const published = await within(ACTIVATE_IN_SECONDS * 500, async () =>
      (await Promise.all([a, b].map(kidsOf))).every((kids) => kids.includes(newRsa.kid) && kids.includes(newEc.kid)));
    expect(published, 'both nodes publish the new keys').to.equal(true);
    expect(Date.now(), 'published before the sign-from time').to.be.below(signFrom);
    for (const node of [a, b]) {
      const keys = await jwksOf(node);
      expect(keys.find((key) => key.kid === newRsa.kid)?.key_ops).to.deep.equal(['verify']);
      expect(keys.some((key) => 'd' in key), 'no private key is published').to.equal(false);
    }

    // Until then, both nodes still sign with the old key.
    for (const node of [a, b]) {
      const token = await idTokenFrom(node);
      expect(token.doneAt, 'this sign-in ended before the sign-from time (a slow machine?)').to.be.below(signFrom);
      expect(token.kid).to.equal(oldRsa);
    }
    const signedByOld = (await idTokenFrom(a)).jwt;

    // From the sign-from time, both nodes sign with the new key, and each token verifies against either node's JWKS.
    // Each node switches on a timer of its own; on a busy machine it is given one reload interval more. What it then
    // publishes as its signing key and what it signs with must agree.
    await sleepUntil(signFrom + 50);
    for (const node of [a, b]) {
      const name = node === a ? 'A' : 'B';
      const switched = await within(REFRESH_MS * 2, async () => signingKidOf(await jwksOf(node), 'RS256') === newRsa.kid);
      expect(switched, `${name} publishes the new key as its signing key ${Date.now() - signFrom} ms after the sign-from time`).to.equal(true);
      const token = await idTokenFrom(node);
      expect(token.kid, `signed on ${name}, which publishes ${JSON.stringify((await jwksOf(node)).map(({ kid, alg, key_ops }) => ({ kid, alg, key_ops })))}`).to.equal(newRsa.kid);
      expect(await verifiesOn(a, token.jwt), 'verifies against A').to.equal(true);
      expect(await verifiesOn(b, token.jwt), 'verifies against B').to.equal(true);
    }

    // The old key stays published (and its tokens verify) until its retirement plus the ID token lifetime and margin...
    const publishedUntil = signFrom + publicationAfterRetirement(a.config.lifetimes.idToken);
    ahead = publishedUntil - 1000 - Date.now();
    await new Promise((resolve) => setTimeout(resolve, REFRESH_MS * 3));
    for (const node of [a, b]) {
      expect(await kidsOf(node), 'old key still published').to.include(oldRsa);
      expect(await verifiesOn(node, signedByOld)).to.equal(true);
    }
    // ...and then disappears from both nodes, while the new key goes on signing.
    ahead = publishedUntil + 100 - Date.now();
    const gone = await within(REFRESH_MS * 5, async () => (await Promise.all([a, b].map(kidsOf))).every((kids) => !kids.includes(oldRsa)));
    expect(gone, 'old key no longer published on either node').to.equal(true);
    for (const node of [a, b]) {
      expect(await kidsOf(node)).to.include.members([newRsa.kid, newEc.kid]);
      expect(await verifiesOn(node, signedByOld)).to.equal(false);
      expect((await idTokenFrom(node)).kid).to.equal(newRsa.kid);
    }

    // The next rotation deletes the keys no longer published.
    const next = await rotateSigningKeys(
      { queries: a.queries, audit, origin: { ip: 'test', userAgent: undefined, clientId: undefined } },
      { activateIn: 3600, idTokenTtl: a.config.lifetimes.idToken, now: new Date(now()) },
    );
    if (next.status !== 'ROTATED') throw new Error(`expected a rotation, got ${next.status}`);
    expect(next.removed.map((key) => key.kid)).to.include(oldRsa).and.to.have.length(2);
    expect((await a.queries.signingKeys.list()).map((key) => key.kid)).not.to.include(oldRsa);
  });
});
