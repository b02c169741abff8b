// The statements every login makes are prepared on Postgres, and keep working when a migration adds columns.
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { expect } from 'chai';
import { createLogger } from '../../src/logger.js';
import { createCipher } from '../../src/security/encryption.js';
import { createAccountQueries, type AccountQueries } from '../../src/storage/accounts.js';
import { createAuditEventQueries, type AuditEventQueries, type NewAuditEvent } from '../../src/storage/audit-events.js';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { MAX_PREPARED_ROWS } from '../../src/storage/prepared-statement.js';
import { createTotpQueries, type TotpQueries } from '../../src/storage/totp.js';
import { createTestDatabase, testDatabaseUrl, type TestDatabase } from '../helpers/database.js';

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const STEP = 59_000_000;

describe('storage: prepared statements', () => {
  let db: TestDatabase;
  // One connection, so that every statement and the look at pg_prepared_statements share it.
  let single: Database;
  let accounts: AccountQueries;
  let totp: TotpQueries;
  let audit: AuditEventQueries;

  before(async () => {
    db = await createTestDatabase();
    single = await openDatabase({ databaseUrl: testDatabaseUrl(), schema: db.schema, dataDir: os.tmpdir(), logger: createLogger('silent'), mode: 'server', pool: { min: 0, max: 1 } });
    accounts = createAccountQueries(single.knex);
    totp = createTotpQueries(single.knex, createCipher(randomBytes(32)));
    audit = createAuditEventQueries(single.knex);
  });
  after(async () => {
    await single?.close();
    await db?.cleanup();
  });

  async function login(username: string, step: number): Promise<string> {
    const found = await accounts.findForLogin(username.toUpperCase());
    expect(found, `findForLogin(${username})`).to.not.equal(undefined);
    expect(found!.account.username).to.equal(username);
    expect(found!.hasTotp).to.equal(true);
    const events = loginEvents(found!.account.id);
    // As a login does it: the step and its events in one statement; a replay adds neither.
    expect(await totp.acceptStep(found!.account.id, step, found!.totpSealed, events)).to.equal(true);
    expect(await totp.acceptStep(found!.account.id, step, found!.totpSealed, events)).to.equal(false);
    expect(await totp.acceptStep(found!.account.id, step)).to.equal(false);
    expect(await totp.acceptStep(found!.account.id, step + 1)).to.equal(true);
    expect(await totp.acceptStep(found!.account.id, step + 2, found!.totpSealed)).to.equal(true);
    await audit.record(events);
    return found!.account.id;
  }

  function loginEvents(accountId: string): NewAuditEvent[] {
    return [
      { event: 'mfa.totp.accepted', accountId, ip: '192.0.2.1' },
      { event: 'login.succeeded', accountId, ip: '192.0.2.1', userAgent: 'Bench/1.0', clientId: 'web', details: { amr: ['otp'] } },
    ];
  }

  async function newSysadmin(username: string): Promise<void> {
    const created = await accounts.create({ username, name: username, email: `${username}@example.com`, role: 'sysadmin', passwordHash: 'h' });
    if (created.status !== 'CREATED') throw new Error('not created');
    await totp.connect(created.account.id, SECRET, STEP);
  }

  it('prepares the login read, the replay guard and the audit insert once per connection', async () => {
    await newSysadmin('alice');
    await login('alice', STEP + 10);
    await audit.record({ event: 'password.failed', ip: '192.0.2.1' });
    const { rows } = await single.knex.raw<{ rows: { name: string }[] }>('select name from pg_prepared_statements order by name');
    expect(rows.map((r) => r.name)).to.include.members([
      'twofold_account_for_login',
      'twofold_audit_insert_1',
      'twofold_audit_insert_2',
      'twofold_totp_accept_sealed_step',
      'twofold_totp_accept_sealed_step_audit_2',
      'twofold_totp_accept_step',
    ]);
  });

  it('records the events that go with a step exactly when the step is accepted, with their columns typed', async () => {
    await newSysadmin('carol');
    const found = (await accounts.findForLogin('carol'))!;
    const id = found.account.id;
    const events = loginEvents(id);
    // A secret replaced since it was read: no step, no events.
    expect(await totp.acceptStep(id, STEP + 50, 'v1.not-the-stored-secret', events)).to.equal(false);
    expect(await audit.list({ accountId: id, limit: 10 })).to.deep.equal([]);
    // Without a sealed secret, the statement that checks only the step.
    expect(await totp.acceptStep(id, STEP + 50, undefined, events.slice(1))).to.equal(true);
    expect(await totp.acceptStep(id, STEP + 50, undefined, events.slice(1))).to.equal(false);
    expect(await totp.acceptStep(id, STEP + 51, found.totpSealed, events)).to.equal(true);
    const listed = await audit.list({ accountId: id, limit: 10 });
    expect(listed.map((e) => e.event)).to.deep.equal(['login.succeeded', 'mfa.totp.accepted', 'login.succeeded']);
    expect(listed[0]).to.include({ accountId: id, ip: '192.0.2.1', userAgent: 'Bench/1.0', clientId: 'web', actorId: null });
    expect(listed[0]!.details).to.deep.equal({ amr: ['otp'] });
    expect(listed[1]!.details).to.deep.equal({});
    expect((await totp.find(id))!.lastStep).to.equal(STEP + 51);
    const tooMany = await totp.acceptStep(id, STEP + 52, found.totpSealed, Array.from({ length: MAX_PREPARED_ROWS + 1 }, () => events[0]!)).catch((err: unknown) => err);
    expect(tooMany).to.be.instanceOf(RangeError);
    expect((await totp.find(id))!.lastStep).to.equal(STEP + 51);
  });

  it('keeps working on the same connection after a migration adds columns to the tables they read and write', async () => {
    await newSysadmin('bob');
    const before = await login('bob', STEP + 20);
    // What a later migration may do while nodes that prepared the statements keep running.
    await single.knex.raw('alter table accounts add column nickname text');
    await single.knex.raw('alter table account_totp add column label text');
    await single.knex.raw("alter table audit_events add column origin text not null default 'web'");
    expect(await login('bob', STEP + 30)).to.equal(before);
    const listed = await audit.list({ accountId: before, limit: 10 });
    expect(listed.map((e) => e.event)).to.deep.equal(['login.succeeded', 'mfa.totp.accepted', 'login.succeeded', 'mfa.totp.accepted', 'login.succeeded', 'mfa.totp.accepted', 'login.succeeded', 'mfa.totp.accepted']);
  });

  it('inserts more events than a prepared insert takes, in one statement', async () => {
    const accountId = randomUUID();
    const events = Array.from({ length: MAX_PREPARED_ROWS + 2 }, (_, i) => ({ event: `test.event-${i}`, accountId, details: { i } }));
    await audit.record(events);
    const listed = await audit.list({ accountId, limit: 20 });
    expect(listed.map((e) => e.details['i']).sort()).to.deep.equal(events.map((_, i) => i));
  });

  it('finds no account for an unknown username, and accepts no step for an unknown account', async () => {
    expect(await accounts.findForLogin('nobody')).to.equal(undefined);
    expect(await totp.acceptStep(randomUUID(), STEP + 40)).to.equal(false);
    expect(await totp.acceptStep(randomUUID(), STEP + 40, 'v1.sealed')).to.equal(false);
  });
});
