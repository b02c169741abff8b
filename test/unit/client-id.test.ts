// Client ids are safe to pass on a command line: 128 random bits, lower-case hex.
import { expect } from 'chai';
import { generateClientId } from '../../src/clients/register-client.js';

describe('client ids', function () {
  it('are 32 hex characters, never starting with "-", and unique', function () {
    const ids = new Set(Array.from({ length: 2000 }, () => generateClientId()));
    expect(ids.size).to.equal(2000);
    for (const id of ids) expect(id).to.match(/^[0-9a-f]{32}$/);
  });
});
