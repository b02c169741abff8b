// The register of initial access tokens on a real Postgres schema: look-up by reference through its index, and
// forgetting tokens older than the console and the CLI list.
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { createInitialAccessTokenQueries, REFERENCE_LENGTH } from '../../src/storage/initial-access-tokens.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const DAY = 86_400_000;
const newId = () => createHash('sha256').update(randomBytes(32)).digest('base64url');

describe('storage: initial access tokens', () => {
  let db: TestDatabase;
  let tokens: ReturnType<typeof createInitialAccessTokenQueries>;

  before(async () => {
    db = await createTestDatabase();
    tokens = createInitialAccessTokenQueries(db.knex);
  });
  after(async () => db?.cleanup());
  beforeEach(async () => db.knex('initial_access_tokens').delete());

  /** Records a token as issued `daysAgo` days ago with a 7-day lifetime; returns its id. */
  const issued = async (daysAgo: number): Promise<string> => {
    const id = newId();
    await tokens.record({ id, expiresAt: new Date(Date.now() - daysAgo * DAY + 7 * DAY), issuedBy: null, via: 'cli' });
    await db.knex('initial_access_tokens').where({ id }).update({ issued_at: new Date(Date.now() - daysAgo * DAY) });
    return id;
  };

  it('finds a token by its reference, and nothing for another one', async () => {
    const id = await issued(0);
    await issued(0);
    const found = await tokens.findByReference(id.slice(0, REFERENCE_LENGTH));
    expect(found).to.include({ id, reference: id.slice(0, REFERENCE_LENGTH), status: 'active', via: 'cli' });
    expect(await tokens.findByReference(newId().slice(0, REFERENCE_LENGTH))).to.equal(undefined);
  });

  it('looks the reference up through its index, not by reading every row', async () => {
    const id = await issued(0);
    let query: { sql: string; bindings: unknown[] } | undefined;
    const capture = (q: { sql: string; bindings: unknown[] }) => (query = q);
    db.knex.on('query', capture);
    try {
      await tokens.findByReference(id.slice(0, REFERENCE_LENGTH));
    } finally {
      db.knex.off('query', capture);
    }
    expect(query, 'the look-up ran').to.not.equal(undefined);
    // With sequential scans priced out, the planner takes an index that fits the expression, if there is one.
    const plan = await db.knex.transaction(async (trx) => {
      await trx.raw('set local enable_seqscan = off');
      // The event's SQL numbers its parameters ($1, $2, in order); knex.raw takes them as ?.
      const { rows } = await trx.raw<{ rows: { 'QUERY PLAN': string }[] }>(`explain ${query!.sql.replace(/\$\d+/g, '?')}`, query!.bindings as never);
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });
    expect(plan).to.contain('initial_access_tokens_reference_index');
  });

  it('forgets the tokens issued before a time, keeping the later ones', async () => {
    const old = await issued(31);
    const older = await issued(400);
    const recent = await issued(29);
    const today = await issued(0);
    expect(await tokens.forgetIssuedBefore(new Date(Date.now() - 30 * DAY))).to.equal(2);
    const left = (await db.knex('initial_access_tokens').select('id')).map((row: { id: string }) => row.id);
    expect(left).to.have.members([recent, today]);
    expect(left).to.not.include.members([old, older]);
    expect(await tokens.forgetIssuedBefore(new Date(Date.now() - 30 * DAY))).to.equal(0);
  });
});
