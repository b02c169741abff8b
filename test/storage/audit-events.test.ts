// Audit events on a real Postgres schema: recording, filtered and paged listing, and a table that refuses changes.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createAuditEventQueries, type AuditEventQueries } from '../../src/storage/audit-events.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

async function failure(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected an error');
}

describe('storage: audit events', () => {
  let db: TestDatabase;
  let audit: AuditEventQueries;
  const alice = randomUUID();
  const bob = randomUUID();

  before(async () => {
    db = await createTestDatabase();
    audit = createAuditEventQueries(db.knex);
    // Recorded once: the table cannot be emptied between tests, which is the point.
    await audit.record({ event: 'login.succeeded', accountId: alice, ip: '192.0.2.1', userAgent: 'UA', clientId: 'web', details: { acr: 'mfa' } });
    await audit.record({ event: 'login.failed', accountId: bob, details: { reason: 'password' } });
    await audit.record({ event: 'totp.connected', accountId: alice });
    await audit.record({ event: 'login.failed', accountId: null, ip: 'x'.repeat(100), userAgent: 'é'.repeat(600) });
    await audit.record({ event: 'login.succeeded', accountId: alice });
  });
  after(async () => db?.cleanup());

  it('records every field and lists newest first', async () => {
    const events = await audit.list({ limit: 500 });
    expect(events.map((e) => e.event)).to.deep.equal(['login.succeeded', 'login.failed', 'totp.connected', 'login.failed', 'login.succeeded']);
    const first = events[4]!;
    expect(first).to.include({ accountId: alice, event: 'login.succeeded', ip: '192.0.2.1', userAgent: 'UA', clientId: 'web' });
    expect(first.id).to.be.a('number');
    expect(first.details).to.deep.equal({ acr: 'mfa' });
    expect(first.occurredAt).to.be.instanceOf(Date);
    expect(Math.abs(first.occurredAt.getTime() - Date.now())).to.be.below(60_000);
    expect(events[0]).to.include({ ip: null, userAgent: null, clientId: null });
    expect(events[0]!.details).to.deep.equal({});
  });

  it('truncates the ip to 64 and the user agent to 512 characters', async () => {
    const event = (await audit.list({ limit: 10, event: 'login.failed' })).find((e) => e.accountId === null);
    expect(event!.ip).to.equal('x'.repeat(64));
    expect(event!.userAgent).to.equal('é'.repeat(512));
  });

  it('filters by account and by event', async () => {
    expect((await audit.list({ limit: 10, accountId: alice })).map((e) => e.event)).to.deep.equal(['login.succeeded', 'totp.connected', 'login.succeeded']);
    expect((await audit.list({ limit: 10, event: 'login.failed' })).map((e) => e.accountId)).to.deep.equal([null, bob]);
    expect(await audit.list({ limit: 10, accountId: alice, event: 'login.failed' })).to.deep.equal([]);
    expect(await audit.list({ limit: 10, accountId: randomUUID() })).to.deep.equal([]);
    expect(await audit.list({ limit: 10, accountId: 'not-a-uuid' })).to.deep.equal([]);
    // A set of events, alone or with an account.
    expect((await audit.list({ limit: 10, events: ['totp.connected', 'login.failed'] })).map((e) => e.event)).to.have.members(['totp.connected', 'login.failed', 'login.failed']);
    expect((await audit.list({ limit: 10, accountId: alice, events: ['totp.connected'] })).map((e) => e.event)).to.deep.equal(['totp.connected']);
    expect(await audit.list({ limit: 10, events: [] })).to.deep.equal([]);
  });

  it('filters by time: from inclusive, to exclusive', async () => {
    const all = await audit.list({ limit: 10 });
    const at = all[2]!.occurredAt;
    const from = await audit.list({ limit: 10, from: at });
    expect(from.every((e) => e.occurredAt.getTime() >= at.getTime())).to.equal(true);
    expect(from.map((e) => e.id)).to.include(all[2]!.id);
    expect(await audit.list({ limit: 10, from: new Date(Date.now() + 3_600_000) })).to.deep.equal([]);
    expect(await audit.list({ limit: 10, to: new Date(Date.now() - 3_600_000) })).to.deep.equal([]);
    expect(await audit.list({ limit: 10, from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 3_600_000) })).to.have.length(5);
  });

  it('pages with the id cursor, without gaps or repeats, also when ids are out of time order', async () => {
    // An event written by a transaction that started earlier: a later id, an earlier time.
    await db.knex.raw("insert into audit_events (event, occurred_at) values ('late.id', now() - interval '1 day')");
    const all = await audit.list({ limit: 500 });
    expect(all.at(-1)?.event).to.equal('late.id');
    const paged = [];
    let before: number | undefined;
    for (;;) {
      const page = await audit.list({ limit: 2, before });
      if (page.length === 0) break;
      expect(page.length).to.be.at.most(2);
      paged.push(...page);
      before = page.at(-1)!.id;
    }
    expect(paged).to.deep.equal(all);
    expect(await audit.list({ limit: 10, accountId: alice, before: all.find((e) => e.accountId === alice)!.id })).to.have.length(2);
  });

  it('refuses a limit outside 1..500 and a bad cursor', async () => {
    for (const limit of [0, -1, 501, 1.5, Number.NaN]) {
      expect(await failure(audit.list({ limit })), String(limit)).to.be.instanceOf(RangeError);
    }
    expect(await failure(audit.list({ limit: 10, before: 1.5 }))).to.be.instanceOf(RangeError);
    expect(await audit.list({ limit: 500 })).to.have.length.at.least(5);
  });

  it('refuses UPDATE, DELETE and TRUNCATE, even of no rows', async () => {
    const update = await failure(db.knex('audit_events').update({ event: 'rewritten' }));
    expect(update.message).to.include('audit_events is append-only: UPDATE');
    expect(update.code).to.equal('42501');
    expect((await failure(db.knex('audit_events').where({ account_id: alice }).delete())).message).to.include('append-only');
    expect((await failure(db.knex('audit_events').whereRaw('false').delete())).message).to.include('append-only: DELETE');
    expect((await failure(db.knex.raw('truncate audit_events'))).message).to.include('append-only: TRUNCATE');
    expect((await audit.list({ limit: 500 })).map((e) => e.event)).to.not.include('rewritten');
  });

  it('does not let an id be chosen', async () => {
    const error = await failure(db.knex('audit_events').insert({ id: 1, event: 'forged' }));
    expect(error.code).to.equal('428C9'); // generated_always
  });

  it("keeps the trigger function in the test's own schema, so dropping the schema removes it", async () => {
    const { rows } = await db.knex.raw(
      "select n.nspname as schema from pg_proc p join pg_namespace n on n.oid = p.pronamespace where p.proname = 'audit_events_append_only'",
    );
    expect((rows as { schema: string }[]).map((r) => r.schema)).to.include(db.schema).and.not.include('public');
  });
});
