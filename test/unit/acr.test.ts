// The levels a request asks for: acr_values and an essential acr claim, compared by rank.
import { expect } from 'chai';
import { acrRank, requestedAcrRank } from '../../src/oidc/acr.js';

describe('acr levels', function () {
  it('ranks Twofold levels and nothing else', function () {
    expect(['urn:twofold:loa:1', 'urn:twofold:loa:2', 'urn:twofold:loa:3'].map(acrRank)).to.deep.equal([1, 2, 3]);
    expect(acrRank('urn:other')).to.equal(0);
    expect(acrRank(undefined)).to.equal(0);
  });

  it('takes the lowest level a request accepts from acr_values', function () {
    expect(requestedAcrRank({ acr_values: 'urn:twofold:loa:3' })).to.equal(3);
    expect(requestedAcrRank({ acr_values: 'urn:twofold:loa:3 urn:twofold:loa:2' })).to.equal(2);
    expect(requestedAcrRank({ acr_values: 'urn:unknown urn:twofold:loa:2' })).to.equal(2);
    expect(requestedAcrRank({ acr_values: 'urn:unknown' })).to.equal(0);
    expect(requestedAcrRank({})).to.equal(0);
  });

  it('reads an essential acr claim, as JSON text or object, and ignores a voluntary one', function () {
    expect(requestedAcrRank({ claims: JSON.stringify({ id_token: { acr: { essential: true, value: 'urn:twofold:loa:3' } } }) })).to.equal(3);
    expect(requestedAcrRank({ claims: { id_token: { acr: { essential: true, values: ['urn:twofold:loa:2', 'urn:twofold:loa:3'] } } } })).to.equal(2);
    expect(requestedAcrRank({ claims: { id_token: { acr: { value: 'urn:twofold:loa:3' } } } })).to.equal(0);
    expect(requestedAcrRank({ claims: '{not json' })).to.equal(0);
  });
});
