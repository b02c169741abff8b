// The client cache: TTLs for found and unknown clients, LRU eviction, invalidation, loads racing a change, sharing.
import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import Provider, { type Adapter, type ClientMetadata } from 'oidc-provider';
import { createClientCache, reuseBuiltClients, shareClientCache } from '../../src/oidc/client-cache.js';
import type { ClientChangeListener, ClientChanges } from '../../src/storage/short-lived/client-changes.js';

function setUp(options: { maxEntries?: number } = {}) {
  let now = 0;
  const loads: string[] = [];
  const rows = new Map<string, ClientMetadata>([['a', { client_id: 'a' }], ['b', { client_id: 'b' }], ['c', { client_id: 'c' }]]);
  const cache = createClientCache(async (id) => {
    loads.push(id);
    const row = rows.get(id);
    return row && { ...row };
  }, { ttlMs: 30_000, negativeTtlMs: 5_000, now: () => now, ...options });
  return { cache, loads, rows, advance: (ms: number) => { now += ms; } };
}

describe('client cache', () => {
  it('serves a found client for the TTL, then loads it again', async () => {
    const { cache, loads, advance } = setUp();
    await cache.find('a');
    advance(29_000);
    expect(await cache.find('a')).to.deep.equal({ client_id: 'a' });
    expect(loads).to.deep.equal(['a']);
    advance(1_000);
    await cache.find('a');
    expect(loads).to.deep.equal(['a', 'a']);
  });

  it('remembers an unknown client only briefly', async () => {
    const { cache, loads, rows, advance } = setUp();
    expect(await cache.find('new')).to.equal(undefined);
    rows.set('new', { client_id: 'new' });
    expect(await cache.find('new')).to.equal(undefined);
    advance(5_000);
    expect(await cache.find('new')).to.deep.equal({ client_id: 'new' });
    expect(loads).to.deep.equal(['new', 'new']);
  });

  it('hands out one frozen copy, so nothing can change what is cached', async () => {
    const { cache, rows } = setUp();
    rows.set('d', { client_id: 'd', redirect_uris: ['https://rp.example/cb'] });
    const first = await cache.find('d');
    expect(() => { first!.client_name = 'changed'; }).to.throw(TypeError);
    expect(() => { (first!.redirect_uris as string[]).push('https://evil.example/cb'); }).to.throw(TypeError);
    expect(await cache.find('d')).to.equal(first);
    expect(await cache.find('d')).to.deep.equal({ client_id: 'd', redirect_uris: ['https://rp.example/cb'] });
  });

  it('forgets a client on invalidate', async () => {
    const { cache, loads, rows } = setUp();
    await cache.find('a');
    rows.set('a', { client_id: 'a', redirect_uris: ['https://new.example/cb'] });
    cache.invalidate('a');
    expect(await cache.find('a')).to.deep.equal({ client_id: 'a', redirect_uris: ['https://new.example/cb'] });
    expect(loads).to.deep.equal(['a', 'a']);
  });

  it('does not keep what a load read before a change made while it ran', async () => {
    const { cache, loads } = setUp();
    const racing = cache.find('a');
    cache.invalidate('a');
    await racing;
    await cache.find('a');
    expect(loads).to.deep.equal(['a', 'a']);
  });

  it('keeps a value read some other way, unless a change came in since the mark', async () => {
    const { cache, loads } = setUp();
    cache.offer('a', { client_id: 'a', client_name: 'read by another key' }, cache.mark());
    expect(await cache.find('a')).to.deep.equal({ client_id: 'a', client_name: 'read by another key' });
    const mark = cache.mark();
    cache.invalidate('b');
    cache.offer('c', { client_id: 'c', client_name: 'stale' }, mark);
    expect(await cache.find('c')).to.deep.equal({ client_id: 'c' });
    expect(loads).to.deep.equal(['c']);
  });

  it('evicts the least recently used client beyond maxEntries', async () => {
    const { cache, loads } = setUp({ maxEntries: 2 });
    await cache.find('a');
    await cache.find('b');
    await cache.find('a');
    await cache.find('c');
    await cache.find('a');
    await cache.find('b');
    expect(loads).to.deep.equal(['a', 'b', 'c', 'b']);
  });

  it('shared: announces a change made here, and forgets clients changed elsewhere or everything after a reset', async () => {
    const { cache, loads } = setUp();
    const published: string[] = [];
    let listener: ClientChangeListener | undefined;
    const changes: ClientChanges = { publish: (id) => published.push(id), listen: (l) => { listener = l; }, close: async () => {} };
    const shared = shareClientCache(cache, changes);
    await shared.find('a');
    await shared.find('b');
    shared.invalidate('a');
    expect(published).to.deep.equal(['a']);
    await shared.find('a');
    listener!.changed('b');
    await shared.find('b');
    expect(loads).to.deep.equal(['a', 'b', 'a', 'b']);
    listener!.reset();
    await shared.find('a');
    await shared.find('b');
    expect(loads).to.deep.equal(['a', 'b', 'a', 'b', 'a', 'b']);
  });

  it('is left as it is without a channel (one process)', () => {
    const { cache } = setUp();
    expect(shareClientCache(cache, undefined)).to.equal(cache);
  });

  describe('with oidc-provider: the Client built from cached metadata', () => {
    const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    function providerOver(rows: Map<string, ClientMetadata>) {
      const cache = createClientCache(async (id) => {
        const row = rows.get(id);
        return row && { ...row };
      });
      const lookups: string[] = [];
      // Only the Client model is read here: through the cache, as createProvider's adapter does.
      const adapter = class implements Partial<Adapter> {
        constructor(readonly name: string) {}
        async find(id: string) {
          if (this.name !== 'Client') return undefined;
          lookups.push(id);
          return cache.find(id);
        }
      };
      const fixed: ClientMetadata = { client_id: 'fixed', token_endpoint_auth_method: 'none', redirect_uris: ['https://fixed.example/cb'] };
      const provider = new Provider('http://127.0.0.1', {
        adapter: adapter as never, clients: [fixed], jwks: { keys: [jwk] }, features: { devInteractions: { enabled: false } },
      });
      reuseBuiltClients(provider, cache, ['fixed']);
      return { provider, cache, lookups };
    }
    const client = (id: string, uri: string): ClientMetadata => ({ client_id: id, token_endpoint_auth_method: 'none', redirect_uris: [uri] });

    it('hands out the same Client while the metadata is unchanged, without oidc-provider looking it up again', async () => {
      const rows = new Map([['a', client('a', 'https://a.example/cb')]]);
      const { provider, lookups } = providerOver(rows);
      const first = await provider.Client.find('a');
      expect(first?.redirectUris).to.deep.equal(['https://a.example/cb']);
      expect(await provider.Client.find('a')).to.equal(first);
      expect(lookups).to.deep.equal(['a']);
    });

    it('builds the changed client after a change, and finds no client once it is gone', async () => {
      const rows = new Map([['a', client('a', 'https://a.example/cb')]]);
      const { provider, cache } = providerOver(rows);
      const before = await provider.Client.find('a');
      rows.set('a', client('a', 'https://changed.example/cb'));
      cache.invalidate('a');
      const after = await provider.Client.find('a');
      expect(after).to.not.equal(before);
      expect(after?.redirectUris).to.deep.equal(['https://changed.example/cb']);
      expect(await provider.Client.find('a')).to.equal(after);
      rows.delete('a');
      cache.invalidate('a');
      expect(await provider.Client.find('a')).to.equal(undefined);
      expect(await provider.Client.find('unknown')).to.equal(undefined);
    });

    it('finds the clients of the configuration as oidc-provider does, whatever the cache holds', async () => {
      const rows = new Map([['fixed', client('fixed', 'https://not-this.example/cb')]]);
      const { provider, lookups } = providerOver(rows);
      expect((await provider.Client.find('fixed'))?.redirectUris).to.deep.equal(['https://fixed.example/cb']);
      expect(lookups).to.deep.equal([]);
    });
  });
});
