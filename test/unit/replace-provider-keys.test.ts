// Guards the one use of oidc-provider internals: replacing a running provider's keys. Fails if the library changes it.
import { createServer, type Server } from 'node:http';
import { expect } from 'chai';
import Provider, { type JWK } from 'oidc-provider';
import { createSigningKey } from '../../src/oidc/signing-keys.js';
import { replaceProviderKeys } from '../../src/oidc/replace-provider-keys.js';

const verifyOnly = (jwk: JWK): JWK => ({ ...jwk, key_ops: ['verify'] });
const kidOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { kid?: string }).kid;

describe('replacing the keys of a running oidc-provider', () => {
  const rsa = [1, 2, 3].map(() => createSigningKey('RS256', new Date()).jwk);
  const ec = [1, 2].map(() => createSigningKey('ES256', new Date()).jwk);
  let provider: Provider;
  let server: Server;
  let origin: string;

  before(async () => {
    provider = new Provider('http://localhost:3000', {
      jwks: { keys: [rsa[0]!, ec[0]!] },
      cookies: { keys: ['unit-test-cookie-key'] },
      ttl: { IdToken: 600 },
      features: { devInteractions: { enabled: false } },
      clients: [
        { client_id: 'rs', client_secret: 'a-secret-of-thirty-two-characters', redirect_uris: ['https://rp.example.com/cb'], id_token_signed_response_alg: 'RS256' },
        { client_id: 'es', client_secret: 'a-secret-of-thirty-two-characters', redirect_uris: ['https://rp.example.com/cb'], id_token_signed_response_alg: 'ES256' },
      ],
    });
    server = createServer(provider.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function idToken(clientId: 'rs' | 'es'): Promise<string> {
    const client = await provider.Client.find(clientId);
    const token = new provider.IdToken({ sub: 'subject' }, { client: client!, ctx: undefined as never });
    (token as unknown as { scope: string }).scope = 'openid';
    return token.issue({ use: 'idtoken' });
  }
  async function validates(jwt: string, clientId: 'rs' | 'es'): Promise<boolean> {
    const client = await provider.Client.find(clientId);
    return provider.IdToken.validate(jwt, client!).then(() => true, () => false);
  }
  async function published(): Promise<{ kid: string; key_ops?: string[]; d?: string }[]> {
    const response = await fetch(`${origin}/jwks`);
    return ((await response.json()) as { keys: { kid: string; key_ops?: string[]; d?: string }[] }).keys;
  }

  it('signs with the keys given at construction', async () => {
    expect(kidOf(await idToken('rs'))).to.equal(rsa[0]!.kid);
    expect(kidOf(await idToken('es'))).to.equal(ec[0]!.kid);
  });

  it('after a replacement, publishes every new key (public parts only) and signs with the first of each alg', async () => {
    const before = await idToken('rs');
    replaceProviderKeys(provider, { keys: [rsa[1]!, verifyOnly(rsa[0]!), verifyOnly(rsa[2]!), ec[1]!, verifyOnly(ec[0]!)] });
    const keys = await published();
    expect(keys.map((k) => k.kid)).to.deep.equal([rsa[1]!.kid, rsa[0]!.kid, rsa[2]!.kid, ec[1]!.kid, ec[0]!.kid]);
    expect(keys.some((k) => 'd' in k)).to.equal(false);
    expect(keys.find((k) => k.kid === rsa[0]!.kid)?.key_ops).to.deep.equal(['verify']);
    expect(kidOf(await idToken('rs'))).to.equal(rsa[1]!.kid);
    expect(kidOf(await idToken('es'))).to.equal(ec[1]!.kid);
    expect(await validates(before, 'rs'), 'a token of the now verify-only key').to.equal(true);
  });

  it('never signs with a key whose key_ops lack "sign", even when it comes first', async () => {
    replaceProviderKeys(provider, { keys: [verifyOnly(rsa[2]!), rsa[1]!, ec[1]!] });
    expect(kidOf(await idToken('rs'))).to.equal(rsa[1]!.kid);
  });

  it('stops verifying and publishing a key left out', async () => {
    replaceProviderKeys(provider, { keys: [rsa[0]!, ec[0]!] });
    const signedBefore = await idToken('rs');
    replaceProviderKeys(provider, { keys: [rsa[1]!, ec[0]!] });
    expect((await published()).map((k) => k.kid)).to.deep.equal([rsa[1]!.kid, ec[0]!.kid]);
    expect(await validates(signedBefore, 'rs')).to.equal(false);
  });

  it('refuses an invalid set and keeps the keys it had', async () => {
    replaceProviderKeys(provider, { keys: [rsa[2]!, ec[1]!] });
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicOnly } = rsa[0]!;
    expect(() => replaceProviderKeys(provider, { keys: [publicOnly as JWK] })).to.throw(/jwks\.keys\[0\]\.d/);
    expect(() => replaceProviderKeys(provider, { keys: [rsa[1]!, rsa[1]!] })).to.throw(/duplicate "kid"/);
    expect((await published()).map((k) => k.kid)).to.deep.equal([rsa[2]!.kid, ec[1]!.kid]);
    expect(kidOf(await idToken('rs'))).to.equal(rsa[2]!.kid);
  });
});
