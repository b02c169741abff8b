// The client cache: TTLs for found and unknown clients, LRU eviction, invalidation, loads racing a change, sharing.
import { expect } from 'chai';
import type { ClientMetadata } from 'oidc-provider';
import { createClientCache, shareClientCache } from '../../src/oidc/client-cache.js';
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
});
