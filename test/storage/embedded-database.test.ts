// The embedded PGlite database: migrations and queries, the CLI reaching a running server through its
// unix socket (in this process and from another one), clients queued on one session, and the lock file.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import pg from 'pg';
import { createLogger } from '../../src/logger.js';
import { createAccountQueries } from '../../src/storage/accounts.js';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { EmbeddedDatabaseLockedError } from '../../src/storage/embedded-lock.js';
import { runMigrations } from '../../src/storage/migrate.js';

const SCHEMA = 'twofold';
const logger = createLogger('silent');
const run = promisify(execFile);

describe('storage: embedded database (PGlite)', function () {
  this.timeout(60_000);
  let dataDir: string;
  let server: Database;
  const open = (mode: 'server' | 'client') => openDatabase({ schema: SCHEMA, dataDir, logger, mode });
  const newAccount = (username: string) => ({ username, name: username, email: `${username}@example.com`, role: 'user' as const, passwordHash: 'h' });
  const socketClient = () => new pg.Client({ host: path.join(dataDir, 'postgres-socket'), port: 5432, user: 'postgres', database: 'postgres' });

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'twofold-pglite-'));
    server = await open('server');
    await runMigrations(server.knex);
  });
  after(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs the migrations in the schema and round-trips a query', async () => {
    expect(server.kind).to.equal('embedded');
    expect(await runMigrations(server.knex)).to.deep.equal([]);
    const tables = await server.knex('information_schema.tables').where({ table_schema: SCHEMA }).pluck('table_name');
    expect(tables).to.include.members(['accounts', 'clients', 'provider_keys', 'knex_migrations']);
    const accounts = createAccountQueries(server.knex);
    const created = await accounts.create(newAccount('Embedded'));
    if (created.status !== 'CREATED') throw new Error('not created');
    expect(await accounts.create(newAccount('EMBEDDED'))).to.deep.equal({ status: 'USERNAME_TAKEN' });
    expect(await accounts.findByUsername('embedded')).to.deep.equal(created.account);
    expect(created.account.createdAt).to.be.instanceOf(Date);
  });

  it('serves local clients on a socket in a folder only its user can open', () => {
    expect(statSync(path.join(dataDir, 'postgres-socket')).mode & 0o777).to.equal(0o700);
    expect(statSync(path.join(dataDir, 'postgres-socket', '.s.PGSQL.5432')).isSocket()).to.equal(true);
  });

  it('lets a client-mode open in this process use the server through the socket', async () => {
    const client = await open('client');
    try {
      expect(client.knex.client.config.client).to.equal('pg'); // not a second PGlite on the same files
      const accounts = createAccountQueries(client.knex);
      expect((await accounts.findByUsername('embedded'))?.username).to.equal('Embedded');
      await accounts.create(newAccount('from-client'));
      expect((await createAccountQueries(server.knex).findByUsername('FROM-CLIENT'))?.username).to.equal('from-client');
    } finally {
      await client.close();
    }
  });

  it('lets a client-mode process (the CLI) work while the server keeps querying', async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const script = `
      const { openDatabase } = await import(${JSON.stringify(path.join(root, 'src/storage/database.ts'))});
      const { createAccountQueries } = await import(${JSON.stringify(path.join(root, 'src/storage/accounts.ts'))});
      const { createLogger } = await import(${JSON.stringify(path.join(root, 'src/logger.ts'))});
      const db = await openDatabase({ schema: ${JSON.stringify(SCHEMA)}, dataDir: process.env.TEST_DATA_DIR, logger: createLogger('silent'), mode: 'client' });
      const accounts = createAccountQueries(db.knex);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
        accounts.create({ username: 'cli-' + i, name: 'n', email: 'e', role: 'user', passwordHash: 'h' })));
      console.log(JSON.stringify({ driver: db.knex.client.config.client, created: results.filter((r) => r.status === 'CREATED').length }));
      await db.close();`;
    const child = run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      env: { ...process.env, TEST_DATA_DIR: dataDir },
    });
    let serverQueries = 0;
    let childDone = false;
    void child.finally(() => (childDone = true));
    const deadline = Date.now() + 30_000;
    while (!childDone && Date.now() < deadline) {
      await server.knex.transaction(async (trx) => trx('clients').select('*'));
      serverQueries++;
      // PGlite answers in microtasks: without a macrotask break this loop would starve all socket I/O.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const { stdout } = await child;
    expect(JSON.parse(stdout.trim())).to.deep.equal({ driver: 'pg', created: 20 });
    expect(await server.knex('accounts').where('username', 'like', 'cli-%').pluck('username')).to.have.length(20);
    expect(serverQueries).to.be.greaterThan(0);
  });

  it('keeps every client exchange and transaction whole when many are queued at once', async () => {
    const clients = [await open('client'), await open('client')];
    try {
      await server.knex.raw('create table if not exists queued (n int not null, payload text not null)');
      const big = 'x'.repeat(200_000); // several socket chunks per message, so exchanges really interleave
      const participants = [server.knex, clients[0]!.knex, clients[1]!.knex];
      const wrong: number[] = [];
      const jobs = Array.from({ length: 48 }, (_, n) =>
        participants[n % 3]!
          .transaction(async (trx) => {
            await trx('queued').insert({ n, payload: big });
            await new Promise((resolve) => setImmediate(resolve)); // let the others' messages arrive meanwhile
            const { rows } = await trx.raw('select ?::int as n, length(?::text) as len', [n, big]);
            if (rows[0].n !== n || rows[0].len !== big.length) wrong.push(n);
            if (n % 4 === 0) throw new Error('roll back');
          })
          .catch((err: Error) => {
            if (err.message !== 'roll back') throw err;
          }),
      );
      // Outside transactions too: each Parse/Bind/Execute/Sync exchange must not interleave with another's.
      const single = Array.from({ length: 60 }, async (_, n) => {
        const { rows } = await participants[n % 3]!.raw('select ?::int as n, length(?::text) as len', [1000 + n, big]);
        if (rows[0].n !== 1000 + n || rows[0].len !== big.length) wrong.push(1000 + n);
      });
      await Promise.all([...jobs, ...single]);
      expect(wrong).to.deep.equal([]);
      const stored = await server.knex('queued').orderBy('n').pluck('n');
      expect(stored).to.deep.equal(Array.from({ length: 48 }, (_, n) => n).filter((n) => n % 4 !== 0));
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });

  it("runs the server's queries after, never inside, a socket client's open transaction", async () => {
    await server.knex.raw('create table if not exists isolation (label text)');
    const client = socketClient();
    await client.connect();
    try {
      await client.query('begin');
      await client.query("insert into isolation values ('from-client')");
      let serverAnswered = false;
      const serverRead = server.knex('isolation').pluck('label').finally(() => (serverAnswered = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(serverAnswered).to.equal(false); // waiting for the session, not reading uncommitted data
      await client.query('commit');
      expect(await serverRead).to.deep.equal(['from-client']);
    } finally {
      await client.end();
    }
  });

  it('rolls back what a vanished socket client left open, and goes on serving', async () => {
    await server.knex.raw('create table if not exists vanished (label text)');
    const client = socketClient();
    client.on('error', () => {});
    await client.connect();
    await client.query('begin');
    await client.query("insert into vanished values ('never committed')");
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    expect(await server.knex('vanished').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
    const again = await open('client');
    try {
      expect(await again.knex('vanished').count({ n: '*' })).to.deep.equal([{ n: '0' }]);
    } finally {
      await again.close();
    }
  });

  it('refuses a second server on the same data directory', async () => {
    let error: unknown;
    try {
      await open('server');
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(EmbeddedDatabaseLockedError);
    expect((error as Error).message).to.include(`process ${process.pid}`);
  });

  it('after the server stops: the CLI opens PGlite itself, which locks out a server; a stale lock is taken over', async () => {
    await server.close();
    const direct = await open('client');
    try {
      expect(direct.knex.client.config.client).not.to.equal('pg'); // nobody serves the socket: PGlite in this process
      expect(await direct.knex('accounts').where({ username: 'from-client' }).pluck('username')).to.deep.equal(['from-client']);
      let error: unknown;
      await open('server').catch((err: unknown) => (error = err));
      expect(error).to.be.instanceOf(EmbeddedDatabaseLockedError);
    } finally {
      await direct.close();
    }
    // A crashed server leaves its lock file behind with a pid that no longer runs.
    const { stdout } = await run(process.execPath, ['-e', 'console.log(process.pid)']);
    writeFileSync(path.join(dataDir, 'postgres.lock'), stdout);
    server = await open('server');
    expect(await server.knex('accounts').where({ username: 'from-client' }).pluck('username')).to.deep.equal(['from-client']);
  });
});
