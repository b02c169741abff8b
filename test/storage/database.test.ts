// Postgres from DATABASE_URL: migrations from several instances at once, failing fast while Postgres is
// down (and recognisably so), recovering when it is back, and no password in what gets logged.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import knexFactory from 'knex';
import { createLogger } from '../../src/logger.js';
import { isDatabaseUnavailable } from '../../src/storage/database-errors.js';
import { openDatabase, pingDatabase, redactDatabaseUrl, type Database } from '../../src/storage/database.js';
import { createMigrationSource, runMigrations } from '../../src/storage/migrate.js';
import { migrationNames, openTestDatabase, testDatabaseUrl } from '../helpers/database.js';

const logger = createLogger('silent');

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** Pings until it works (at most `attempts` times) and returns the errors seen before. */
async function pingUntilUp(db: Database, attempts: number): Promise<unknown[]> {
  const failures: unknown[] = [];
  for (let i = 0; i < attempts; i++) {
    try {
      await pingDatabase(db.knex);
      return failures;
    } catch (err) {
      failures.push(err);
    }
  }
  throw new Error(`still down after ${attempts} pings: ${failures.map(String).join('; ')}`);
}

/** A TCP proxy to the real Postgres that can be stopped and started, standing in for a Postgres restart. */
function createProxy(target: URL) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  return {
    url: () => Object.assign(new URL(target.href), { port: String(port) }).href,
    async start() {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 5432), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
      port = (server.address() as net.AddressInfo).port;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server?.close(resolve));
    },
  };
}

describe('storage: Postgres database', function () {
  this.timeout(30_000);

  it('redacts the password from a database URL', () => {
    expect(redactDatabaseUrl('postgres://app:s3cret@db.example.com:5432/twofold')).to.equal('postgres://app:***@db.example.com:5432/twofold');
    expect(redactDatabaseUrl('postgres://db/twofold?password=s3cret')).not.to.include('s3cret');
    expect(redactDatabaseUrl('postgres://db/twofold')).to.equal('postgres://db/twofold');
  });

  it('creates the schema, migrates it from three instances starting at once, and pings', async () => {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const instances: Database[] = [];
    try {
      for (let i = 0; i < 3; i++) instances.push(await openTestDatabase(schema));
      const ran = await Promise.all(instances.map((db) => runMigrations(db.knex)));
      expect(ran.map((names) => names.length).sort()).to.deep.equal([0, 0, migrationNames().length]);
      const knex = instances[0]!.knex;
      expect(await knex('knex_migrations').orderBy('id').pluck('name')).to.deep.equal(migrationNames());
      expect(await knex('knex_migrations_lock').select('is_locked')).to.deep.equal([{ is_locked: 0 }]);
      const tables = await knex('information_schema.tables').where({ table_schema: schema }).pluck('table_name');
      expect(tables).to.include.members(['accounts', 'clients', 'provider_keys']);
      await pingDatabase(knex);
    } finally {
      await instances[0]?.knex.raw('drop schema if exists ?? cascade', [schema]);
      await Promise.all(instances.map((db) => db.close()));
    }
  });

  it('fails within seconds, recognisably, when nothing listens', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as net.AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const started = Date.now();
    const err = await caught(openDatabase({ databaseUrl: `postgres://postgres:pw@127.0.0.1:${port}/test`, schema: 'public', dataDir: os.tmpdir(), logger, mode: 'server' }));
    expect(Date.now() - started).to.be.below(6_000);
    expect(isDatabaseUnavailable(err)).to.equal(true);
  });

  it('times out, recognisably, against a server that accepts but never answers', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const started = Date.now();
      const err = await caught(openDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${port}/test`, schema: 'public', dataDir: os.tmpdir(), logger, mode: 'server' }));
      expect(Date.now() - started).to.be.below(8_000);
      expect(isDatabaseUnavailable(err)).to.equal(true);
    } finally {
      silent.close();
    }
  });

  it('fails fast while Postgres is down, then recovers by itself when it is back', async () => {
    const proxy = createProxy(new URL(testDatabaseUrl()));
    await proxy.start();
    const db = await openDatabase({ databaseUrl: proxy.url(), schema: 'public', dataDir: os.tmpdir(), logger, mode: 'server' });
    try {
      await Promise.all([pingDatabase(db.knex), pingDatabase(db.knex)]); // two pooled connections
      await proxy.stop();
      for (let i = 0; i < 2; i++) {
        const started = Date.now();
        const err = await caught(pingDatabase(db.knex));
        expect(Date.now() - started).to.be.below(6_000);
        expect(isDatabaseUnavailable(err), String(err)).to.equal(true);
      }
      await proxy.start();
      expect(await pingUntilUp(db, 3)).to.have.length.at.most(1);
      await Promise.all(Array.from({ length: 5 }, () => pingDatabase(db.knex)));
    } finally {
      await db.close();
      await proxy.stop();
    }
  });

  it('recognises a terminated session (57P01) and replaces that connection', async () => {
    const db = await openTestDatabase('public');
    try {
      const err = await caught(db.knex.raw('select pg_terminate_backend(pg_backend_pid())'));
      expect((err as { code?: string }).code).to.equal('57P01');
      expect(isDatabaseUnavailable(err)).to.equal(true);
      // The pool only learns the connection is dead when its socket closes, which may be just after the
      // next query took it: that one query may fail too (recognisably), then the pool has replaced it.
      const failures = await pingUntilUp(db, 3);
      expect(failures).to.have.length.at.most(1);
      for (const failure of failures) expect(isDatabaseUnavailable(failure), String(failure)).to.equal(true);
    } finally {
      await db.close();
    }
  });

  it('recognises a pool acquire timeout, and not ordinary query errors', async () => {
    const knex = knexFactory({ client: 'pg', connection: testDatabaseUrl(), pool: { min: 0, max: 1 }, acquireConnectionTimeout: 200, log: { warn() {}, error() {}, deprecate() {}, debug() {} } });
    try {
      let release!: () => void;
      const held = knex.transaction(() => new Promise<void>((resolve) => (release = resolve)));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(isDatabaseUnavailable(await caught(knex.raw('select 1')))).to.equal(true);
      release();
      await held;
      expect(isDatabaseUnavailable(await caught(knex.raw('selec 1')))).to.equal(false);
      expect(isDatabaseUnavailable(await caught(knex.raw('select 1/0')))).to.equal(false);
      expect(isDatabaseUnavailable(new Error('boom'))).to.equal(false);
      expect(isDatabaseUnavailable(undefined)).to.equal(false);
      expect(isDatabaseUnavailable(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: '08006' }) }))).to.equal(true);
      expect(isDatabaseUnavailable(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]))).to.equal(true);
    } finally {
      await knex.destroy();
    }
  });

  it('opens as many connections as the pool allows (DATABASE_POOL_MIN/MAX), and 10 at most by default', async () => {
    const sized = await openDatabase({ databaseUrl: testDatabaseUrl(), schema: 'public', dataDir: os.tmpdir(), logger, mode: 'server', pool: { min: 0, max: 2 } });
    const unsized = await openDatabase({ databaseUrl: testDatabaseUrl(), schema: 'public', dataDir: os.tmpdir(), logger, mode: 'server' });
    try {
      const backends = async (db: Database, queries: number) => {
        const pids = await Promise.all(Array.from({ length: queries }, () => db.knex.raw('select pg_backend_pid() as pid, pg_sleep(0.1)')));
        return new Set(pids.map((result) => (result as { rows: { pid: number }[] }).rows[0]!.pid)).size;
      };
      expect(await backends(sized, 6)).to.equal(2);
      expect(await backends(unsized, 12)).to.equal(10);
    } finally {
      await Promise.all([sized.close(), unsized.close()]);
    }
  });

  it('loads .ts and .js migrations by name, never .d.ts or .map files', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'twofold-migrations-'));
    try {
      const files = {
        '002_b.ts': 'export async function up() {}\nexport async function down() {}\n',
        '001_a.js': 'export async function up() {}\nexport async function down() {}\n',
        '001_a.d.ts': 'export {};\n',
        '001_a.js.map': '{}',
        'README.md': 'not a migration',
        '003_broken.js': 'export const nothing = 1;\n',
      };
      for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
      const source = createMigrationSource(dir);
      const found = await source.getMigrations([]);
      expect(found).to.deep.equal(['001_a.js', '002_b.ts', '003_broken.js']);
      expect(found.map((file) => source.getMigrationName(file))).to.deep.equal(['001_a', '002_b', '003_broken']);
      expect(typeof (await source.getMigration('002_b.ts')).up).to.equal('function');
      expect(String(await caught(source.getMigration('003_broken.js')))).to.include('must export up(knex) and down(knex)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
