// The two-factor and audit migrations on the embedded PGlite (Postgres 17 in WASM): trigger, bigint steps, replay guard.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createLogger } from '../../src/logger.js';
import { createCipher } from '../../src/security/encryption.js';
import { createClientSecretHasher } from '../../src/security/client-secrets.js';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { runMigrations } from '../../src/storage/migrate.js';
import { createQueries, type Queries } from '../../src/storage/queries.js';

const SCHEMA = 'twofold';

describe('storage: two-factor and audit tables on the embedded database (PGlite)', function () {
  this.timeout(60_000);
  let dataDir: string;
  let db: Database;
  let queries: Queries;

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'twofold-pglite-2fa-'));
    db = await openDatabase({ schema: SCHEMA, dataDir, logger: createLogger('silent'), mode: 'server' });
    await runMigrations(db.knex);
    queries = createQueries(db.knex, createCipher(randomBytes(32)), createClientSecretHasher(randomBytes(32)));
  });
  after(async () => {
    await db?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates the tables, and the trigger function in the schema', async () => {
    expect(db.kind).to.equal('embedded');
    const tables = await db.knex('information_schema.tables').where({ table_schema: SCHEMA }).pluck('table_name');
    expect(tables).to.include.members(['account_totp', 'audit_events']);
    const { rows } = await db.knex.raw(
      "select n.nspname as schema from pg_proc p join pg_namespace n on n.oid = p.pronamespace where p.proname = 'audit_events_append_only'",
    );
    expect(rows).to.deep.equal([{ schema: SCHEMA }]);
  });

  it('guards TOTP steps, with 64-bit values, and postponements', async () => {
    const created = await queries.accounts.create({ username: 'admin', name: 'Admin', email: 'a@example.com', role: 'sysadmin', passwordHash: 'h' });
    if (created.status !== 'CREATED') throw new Error('not created');
    const id = created.account.id;
    expect(await queries.accounts.usePostponement(id, 5)).to.deep.equal({ status: 'POSTPONED', left: 4 });
    const step = 2 ** 40;
    await queries.totp.connect(id, 'SECRET', step);
    expect(await queries.totp.find(id)).to.include({ secret: 'SECRET', lastStep: step });
    expect(await queries.totp.acceptStep(id, step)).to.equal(false);
    const parallel = await Promise.all(Array.from({ length: 5 }, () => queries.totp.acceptStep(id, step + 1)));
    expect(parallel.filter(Boolean)).to.have.length(1);
    expect((await queries.totp.find(id))?.lastStep).to.equal(step + 1);
    expect(await queries.accounts.usePostponement(id, 5)).to.deep.equal({ status: 'EXHAUSTED' });
  });

  it('records and lists audit events, and refuses to change them', async () => {
    await queries.auditEvents.record({ event: 'login.succeeded', details: { n: 1 } });
    await queries.auditEvents.record({ event: 'login.failed' });
    const events = await queries.auditEvents.list({ limit: 10 });
    expect(events.map((e) => e.event)).to.deep.equal(['login.failed', 'login.succeeded']);
    expect(events[1]!.id).to.be.a('number');
    expect(events[1]!.details).to.deep.equal({ n: 1 });
    expect(await queries.auditEvents.list({ limit: 10, before: events[0]!.id })).to.deep.equal([events[1]]);
    for (const statement of ['update audit_events set event = ?', 'delete from audit_events where event <> ?', 'truncate audit_events']) {
      let error: { message?: string } | undefined;
      const bindings = statement.includes('?') ? ['x'] : [];
      await db.knex.raw(statement, bindings).catch((err: { message?: string }) => (error = err));
      expect(error?.message, statement).to.include('audit_events is append-only');
    }
    expect(await queries.auditEvents.list({ limit: 10 })).to.deep.equal(events);
  });
  it("accepts a login's step together with its audit events, in one statement", async () => {
    const created = await queries.accounts.create({ username: 'admin2', name: 'Admin', email: 'b@example.com', role: 'sysadmin', passwordHash: 'h' });
    if (created.status !== 'CREATED') throw new Error('not created');
    const id = created.account.id;
    await queries.totp.connect(id, 'SECRET', 100);
    const { sealed } = (await queries.totp.find(id))!;
    const events = [{ event: 'mfa.totp.accepted', accountId: id, ip: '127.0.0.1' }, { event: 'login.succeeded', accountId: id, details: { amr: ['otp'] } }];
    expect(await queries.totp.acceptStep(id, 101, sealed, events)).to.equal(true);
    // The events only with an accepted step: a replay adds none.
    expect(await queries.totp.acceptStep(id, 101, sealed, events)).to.equal(false);
    const listed = await queries.auditEvents.list({ accountId: id, limit: 10 });
    expect(listed.map((e) => [e.event, e.ip, e.details])).to.deep.equal([['login.succeeded', null, { amr: ['otp'] }], ['mfa.totp.accepted', '127.0.0.1', {}]]);
  });
});
