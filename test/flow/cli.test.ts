// The twofold admin CLI as a subprocess on a real Postgres schema: users, clients, migrate, bad input, bad databases.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createClientSecretHasher } from '../../src/security/client-secrets.js';
import { createTestDatabase, migrationNames, openTestDatabase, testDatabaseUrl, type TestDatabase } from '../helpers/database.js';
import { expectRefused, runCli, STACK_LINE, type CliRun } from '../helpers/run-cli.js';

const PASSWORD = 'violet-harbour-lantern-42';

interface ClientRow {
  client_id: string;
  metadata: Record<string, unknown>;
  client_secret_hash: string | null;
  client_secret_encrypted: string | null;
  first_party: boolean;
}

describe('twofold CLI', function () {
  this.timeout(90_000);
  let db: TestDatabase;
  let dataDir: string;
  const secretKey = randomBytes(32).toString('hex');
  const env = () => ({ DATABASE_URL: testDatabaseUrl(), DATABASE_SCHEMA: db.schema, SECRET_KEY: secretKey, DATA_DIR: dataDir });
  const cli = (args: string[], input?: string) => runCli(args, { env: env(), ...(input === undefined ? {} : { input }) });
  const addUser = (username: string, extra: string[] = [], password = PASSWORD) =>
    cli(['users', 'add', '--username', username, '--email', `${username.toLowerCase()}@example.com`, '--password-stdin', ...extra], `${password}\n`);
  const addClient = async (args: string[]) => {
    const run = await cli(['clients', 'add', ...args, '--json']);
    expect(run.code, run.stderr).to.equal(0);
    return JSON.parse(run.stdout) as { client_id: string; client_secret: string | null };
  };
  const clientRow = (clientId: string) => db.knex<ClientRow>('clients').where({ client_id: clientId }).first();
  const accountRow = (username: string) => db.knex('accounts').whereRaw('lower(username) = lower(?)', [username]).first();

  before(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'twofold-cli-'));
  });
  after(async () => {
    await db?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('users', () => {
    it('adds a user with --password-stdin and lists it as JSON, without the password hash', async () => {
      const added = await addUser('Alice', ['--name', 'Alice Liddell', '--json']);
      expect(added.code, added.stderr).to.equal(0);
      const created = JSON.parse(added.stdout) as { id: string; username: string; role: string };
      expect(created).to.include({ username: 'Alice', role: 'user' });
      expect(created.id).to.match(/^[0-9a-f-]{36}$/);

      const listed = await cli(['users', 'list', '--json']);
      expect(listed.code, listed.stderr).to.equal(0);
      const users = JSON.parse(listed.stdout) as Record<string, unknown>[];
      const alice = users.find((u) => u['username'] === 'Alice');
      expect(alice).to.include({ id: created.id, name: 'Alice Liddell', email: 'alice@example.com', role: 'user', disabled: false });
      expect(Object.keys(alice!)).not.to.include('passwordHash');
      expect(listed.stdout).not.to.include('$argon2');

      // One trailing newline was stripped from stdin, and the password is stored as an argon2id hash only.
      const row = await accountRow('alice');
      expect(row.password_hash).to.match(/^\$argon2id\$/);
      expect(row.password_hash).not.to.include(PASSWORD);
      const { verifyPassword } = await import('../../src/security/passwords.js');
      expect(await verifyPassword(row.password_hash, PASSWORD)).to.equal(true);
    });

    it('sets a new password with --password-stdin: the old one no longer verifies, the change is audited, bad input is refused', async () => {
      expect((await addUser('forgetful')).code).to.equal(0);
      const NEW = 'a fresh passphrase for later';
      const run = await cli(['users', 'set-password', 'FORGETFUL', '--password-stdin'], `${NEW}\n`);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.equal('The password of forgetful is set.\n');
      // This CLI runs without Redis: it says the sessions go on and how to end them.
      expect(run.stderr).to.contain('the sessions signed in with the old password go on');
      const { verifyPassword } = await import('../../src/security/passwords.js');
      const row = await accountRow('forgetful');
      expect(await verifyPassword(row.password_hash, NEW)).to.equal(true);
      expect(await verifyPassword(row.password_hash, PASSWORD)).to.equal(false);
      const [event] = await db.knex('audit_events').where({ account_id: row.id, event: 'account.password_changed' });
      expect(event).to.include({ ip: 'cli' });

      expectRefused(await cli(['users', 'set-password', 'forgetful', '--password-stdin'], 'short\n'), 2, /at least 8 characters/);
      expectRefused(await cli(['users', 'set-password', 'nobody-here', '--password-stdin'], `${NEW}\n`), 2, /there is no user named "nobody-here"/);
      expect(await verifyPassword((await accountRow('forgetful')).password_hash, NEW)).to.equal(true);
    });

    it('prints the created user as text, and lists users in a table', async () => {
      const added = await addUser('grace', ['--role', 'sysadmin']);
      expect(added.code, added.stderr).to.equal(0);
      expect(added.stdout).to.match(/^Created sysadmin grace \(id [0-9a-f-]{36}\)\.\n$/);
      const table = await cli(['users', 'list']);
      expect(table.stdout.split('\n')[0]).to.match(/^USERNAME\s+NAME\s+EMAIL\s+ROLE\s+DISABLED\s+CREATED$/);
      expect(table.stdout).to.match(/\ngrace\s+grace\s+grace@example\.com\s+sysadmin\s+no\s+\d{4}-/);
    });

    it('refuses a username taken in another letter case, with exit code 2', async () => {
      expect((await addUser('bob')).code).to.equal(0);
      expectRefused(await addUser('BOB'), 2, /a user named BOB already exists/);
      expect(await db.knex('accounts').whereRaw("lower(username) = 'bob'")).to.have.length(1);
    });

    it('refuses weak passwords with the policy\'s reason, creating nothing', async () => {
      expectRefused(await addUser('carol', [], 'password123'), 2, /on a list of common or breached passwords/);
      expectRefused(await addUser('carol', [], 'short'), 2, /at least 8 characters/);
      expectRefused(await addUser('carol', [], 'carol-is-my-name'), 2, /must not contain the username/);
      expect(await accountRow('carol')).to.equal(undefined);
    });

    it('asks for --password-stdin when there is no terminal to prompt on', async () => {
      const run = await cli(['users', 'add', '--username', 'dora', '--email', 'dora@example.com']);
      expectRefused(run, 2, /no terminal to ask for the password; pipe it in with --password-stdin/);
    });

    const badInput: [string, string[], RegExp][] = [
      ['a bad email', ['users', 'add', '--username', 'erin', '--email', 'not-an-email', '--password-stdin'], /"not-an-email" is not an email address/],
      ['a bad role', ['users', 'add', '--username', 'erin', '--email', 'erin@example.com', '--role', 'root', '--password-stdin'], /role must be user or sysadmin, not "root"/],
      ['a bad username', ['users', 'add', '--username', 'e rin!', '--email', 'erin@example.com', '--password-stdin'], /3-64 characters of letters, digits and \. _ - @/],
      ['a missing username', ['users', 'add', '--email', 'erin@example.com', '--password-stdin'], /give the username with --username/],
      ['an unknown flag', ['users', 'add', '--username', 'erin', '--emial', 'erin@example.com'], /Unknown option '--emial'.*users add --help/],
      ['a flag without its value', ['users', 'add', '--username'], /'--username <value>' argument missing/],
      ['an unknown command', ['frobnicate'], /unknown command "frobnicate".*twofold --help/],
      ['an unknown users command', ['users', 'delete', 'erin'], /twofold users: unknown command "delete"/],
      ['an extra argument', ['users', 'list', 'everyone'], /expected no arguments, got "everyone"/],
      ['no command at all', [], /give a command/],
    ];
    for (const [label, args, pattern] of badInput) {
      it(`answers ${label} with exit code 2, one helpful message and no stack trace`, async () => {
        const run = await cli(args, `${PASSWORD}\n`);
        expect(run.code, run.stderr).to.equal(2);
        expect(run.stderr).to.match(pattern);
        expect(run.stderr).not.to.match(STACK_LINE);
        expect(await accountRow('erin')).to.equal(undefined);
      });
    }

    it('changes roles and disables and enables accounts, by username in any letter case', async () => {
      expect((await addUser('Frank')).code).to.equal(0);
      const promoted = await cli(['users', 'set-role', 'frank', 'sysadmin']);
      expect(promoted.stdout).to.equal('Frank is now sysadmin.\n');
      expect((await accountRow('frank')).role).to.equal('sysadmin');

      expect((await cli(['users', 'disable', 'FRANK'])).stdout).to.equal('Frank is disabled.\n');
      expect((await accountRow('frank')).disabled).to.equal(true);
      expect((await cli(['users', 'enable', 'frank'])).stdout).to.equal('Frank is enabled.\n');
      expect((await accountRow('frank')).disabled).to.equal(false);

      // Each change is in the audit log, with the CLI as its source.
      const events = await db.knex('audit_events').where({ account_id: (await accountRow('frank')).id }).orderBy('id').select('event', 'ip', 'user_agent', 'details');
      expect(events.map((e: { event: string }) => e.event)).to.deep.equal(['account.created', 'account.role_changed', 'account.disabled', 'account.enabled']);
      expect(events[1]).to.deep.include({ ip: 'cli', user_agent: 'twofold CLI', details: { from: 'user', to: 'sysadmin' } });
      expect(events[2].details).to.deep.equal({ sessionsKept: 'no Redis settings' });
      expect((await cli(['users', 'set-role', 'frank', 'sysadmin'])).code, 'no change, no event').to.equal(0);
      expect(await db.knex('audit_events').where({ event: 'account.role_changed' }).count({ n: '*' })).to.deep.equal([{ n: '1' }]);

      expectRefused(await cli(['users', 'set-role', 'frank', 'admin']), 2, /role must be user or sysadmin, not "admin"/);
      expectRefused(await cli(['users', 'set-role', 'nobody', 'user']), 2, /no user named "nobody"/);
      expectRefused(await cli(['users', 'disable', 'nobody']), 2, /no user named "nobody"/);
      expect((await accountRow('frank')).role).to.equal('sysadmin');
    });
  });

  describe('clients', () => {
    it('registers a confidential client: --json holds the secret, stored encrypted', async () => {
      const run = await cli(['clients', 'add', '--name', 'Payroll', '--redirect-uri', 'https://payroll.example.com/cb', '--first-party', '--json']);
      expect(run.code, run.stderr).to.equal(0);
      const output = JSON.parse(run.stdout) as Record<string, string>;
      expect(Object.keys(output)).to.deep.equal(['client_id', 'client_secret']);
      expect(output['client_secret']).to.match(/^[\w-]{43}$/);

      const row = await clientRow(output['client_id']!);
      expect(row?.first_party).to.equal(true);
      expect(row?.metadata).to.include({ token_endpoint_auth_method: 'client_secret_basic' });
      expect(row?.metadata['redirect_uris']).to.deep.equal(['https://payroll.example.com/cb']);
      expect(row?.client_secret_encrypted).to.equal(null);
      expect(JSON.stringify(row)).not.to.include(output['client_secret']);
      const hasher = createClientSecretHasher(Buffer.from(secretKey, 'hex'));
      expect(hasher.verify(output['client_id']!, output['client_secret'], row!.client_secret_hash!)).to.equal(true);
    });

    it('prints the secret once in text mode, with a note that it is shown only once', async () => {
      const run = await cli(['clients', 'add', '--name', 'Wiki', '--redirect-uri', 'https://wiki.example.com/cb', '--auth-method', 'client_secret_post']);
      expect(run.code, run.stderr).to.equal(0);
      const secret = /client_secret: (\S+)/.exec(run.stdout)?.[1];
      const clientId = /client_id:\s+(\S+)/.exec(run.stdout)?.[1];
      expect(secret).to.be.a('string');
      expect(run.stderr).to.match(/shown only once/);
      expect((await clientRow(clientId!))?.metadata).to.include({ token_endpoint_auth_method: 'client_secret_post' });
    });

    it('registers a public client without a secret', async () => {
      const { client_id, client_secret } = await addClient(['--name', 'SPA', '--redirect-uri', 'http://localhost:5173/cb', '--public']);
      expect(client_secret).to.equal(null);
      const row = await clientRow(client_id);
      expect(row?.client_secret_hash).to.equal(null);
      expect(row?.metadata).to.include({ token_endpoint_auth_method: 'none' });
    });

    it('refuses invalid redirect URIs and grant types, listing every problem, storing nothing', async () => {
      const before = (await db.knex('clients').count({ n: '*' }))[0]!['n'];
      const run = await cli([
        'clients', 'add', '--name', 'Bad', '--redirect-uri', '/callback', '--redirect-uri', 'https://bad.example.com/cb#frag',
        '--redirect-uri', 'https://*.example.com/cb', '--grant-type', 'implicit', '--json',
      ]);
      expectRefused(run, 2, /the client was not registered/);
      expect(run.stderr).to.match(/"\/callback" is not an absolute URI/);
      expect(run.stderr).to.match(/must not contain a fragment/);
      expect(run.stderr).to.match(/must not contain a wildcard/);
      expect(run.stderr).to.match(/unknown "implicit"/);
      expect((await db.knex('clients').count({ n: '*' }))[0]!['n']).to.equal(before);
    });

    it('lists clients without secrets, removes them and rotates secrets', async () => {
      const confidential = await addClient(['--name', 'Rota', '--redirect-uri', 'https://rota.example.com/cb']);
      const pub = await addClient(['--name', 'Rota SPA', '--redirect-uri', 'https://rota.example.com/spa', '--public']);

      const listed = await cli(['clients', 'list', '--json']);
      const clients = JSON.parse(listed.stdout) as Record<string, unknown>[];
      expect(clients.find((c) => c['client_id'] === confidential.client_id)).to.include({ name: 'Rota', type: 'confidential' });
      expect(clients.find((c) => c['client_id'] === pub.client_id)).to.include({ name: 'Rota SPA', type: 'public' });
      expect(listed.stdout).not.to.include(confidential.client_secret!);
      expect(listed.stdout).not.to.match(/"client_secret"|secret_hash|hmac-sha256/);
      expect((await cli(['clients', 'list'])).stdout).to.include(confidential.client_id);

      const storedBefore = (await clientRow(confidential.client_id))!.client_secret_hash;
      const rotated = await cli(['clients', 'rotate-secret', confidential.client_id, '--json']);
      expect(rotated.code, rotated.stderr).to.equal(0);
      const newSecret = (JSON.parse(rotated.stdout) as { client_secret: string }).client_secret;
      expect(newSecret).to.match(/^[\w-]{43}$/).and.not.equal(confidential.client_secret);
      const storedAfter = (await clientRow(confidential.client_id))!.client_secret_hash!;
      expect(storedAfter).not.to.equal(storedBefore);
      expect(createClientSecretHasher(Buffer.from(secretKey, 'hex')).verify(confidential.client_id, newSecret, storedAfter)).to.equal(true);

      expectRefused(await cli(['clients', 'rotate-secret', pub.client_id]), 2, /is a public client; it has no secret to rotate/);
      expectRefused(await cli(['clients', 'rotate-secret', 'no-such-client']), 2, /no client with client_id "no-such-client"/);

      const removed = await cli(['clients', 'remove', pub.client_id]);
      expect(removed.stdout).to.equal(`Removed client ${pub.client_id}.\n`);
      expect(await clientRow(pub.client_id)).to.equal(undefined);
      expectRefused(await cli(['clients', 'remove', pub.client_id]), 2, /no client with client_id/);
      expect(await clientRow(confidential.client_id)).not.to.equal(undefined);

      // Each change is in the audit log, from the CLI, as the console's are; a refused one is not.
      const audited = async (clientId: string) => (await db.knex('audit_events').where({ client_id: clientId }).orderBy('id')).map((e) => [e.event, e.ip, e.user_agent]);
      expect(await audited(confidential.client_id)).to.deep.equal([['client.created', 'cli', 'twofold CLI'], ['client.secret_rotated', 'cli', 'twofold CLI']]);
      expect(await audited(pub.client_id)).to.deep.equal([['client.created', 'cli', 'twofold CLI'], ['client.deleted', 'cli', 'twofold CLI']]);
      expect(JSON.stringify(await db.knex('audit_events').where({ client_id: confidential.client_id }))).not.to.contain(newSecret);
    });

    it('reports a SECRET_KEY that is not the server\'s with exit code 1, before storing a secret the server could not check', async () => {
      const { client_id } = await addClient(['--name', 'Keyed', '--redirect-uri', 'https://keyed.example.com/cb']);
      const storedBefore = (await clientRow(client_id))!.client_secret_hash;
      const otherKey = { ...env(), SECRET_KEY: randomBytes(32).toString('hex') };
      expectRefused(await runCli(['clients', 'rotate-secret', client_id], { env: otherKey }), 1, /could not be decrypted: SECRET_KEY .* is not the key the server uses/);
      expect((await clientRow(client_id))!.client_secret_hash).to.equal(storedBefore);
      const before = (await db.knex('clients').count({ n: '*' }))[0]!['n'];
      expectRefused(await runCli(['clients', 'add', '--name', 'Other key', '--redirect-uri', 'https://keyed.example.com/cb'], { env: otherKey }), 1, /is not the key the server uses/);
      expect((await db.knex('clients').count({ n: '*' }))[0]!['n']).to.equal(before);
    });
  });

  describe('migrate and the environment', () => {
    it('migrates a new schema once, then says it is up to date', async () => {
      const schema = `t_${randomBytes(6).toString('hex')}`;
      try {
        const first = await runCli(['migrate'], { env: { ...env(), DATABASE_SCHEMA: schema } });
        expect(first.code, first.stderr).to.equal(0);
        const names = migrationNames();
        expect(first.stdout).to.equal(`Ran ${names.length} migrations:\n${names.map((name) => `  ${name}\n`).join('')}`);
        const second = await runCli(['migrate'], { env: { ...env(), DATABASE_SCHEMA: schema } });
        expect(second.stdout).to.equal('The database is up to date.\n');
        expect((await runCli(['migrate', '--json'], { env: { ...env(), DATABASE_SCHEMA: schema } })).stdout).to.match(/"ran": \[\]/);
      } finally {
        const database = await openTestDatabase(schema);
        await database.knex.raw('drop schema if exists ?? cascade', [schema]);
        await database.close();
      }
    });

    it('fails with exit code 1 and a clear message, quickly, when the database is unreachable', async () => {
      const run = await runCli(['users', 'list'], { env: { ...env(), DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/test' } });
      expectRefused(run, 1, /^twofold: could not open the database \(postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test\): .*ECONNREFUSED.*Is Postgres running/);
      expect(run.stderr).not.to.include('hunter2');
      expect(run.stderr.trim().split('\n')).to.have.length(1);
      expect(run.ms).to.be.below(10_000);
    });

    it('reports every configuration problem with exit code 2', async () => {
      const run = await runCli(['users', 'list'], { env: { ...env(), SECRET_KEY: 'too-short', DATABASE_URL: 'mysql://localhost/x' } });
      expectRefused(run, 2, /configuration \(environment variables\) is invalid/);
      expect(run.stderr).to.match(/SECRET_KEY: must be 32 random bytes/).and.match(/DATABASE_URL: must be a postgres URL/);
    });

    it('has --help for the tool and each command, without needing a database', async () => {
      const offline = { ...env(), DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' };
      const commands = [[], ['users'], ['users', 'add'], ['users', 'list'], ['users', 'set-role'], ['users', 'disable'], ['users', 'enable'],
        ['clients'], ['clients', 'add'], ['clients', 'list'], ['clients', 'remove'], ['clients', 'rotate-secret'], ['migrate']];
      const runs = await Promise.all(commands.map((command) => runCli([...command, '--help'], { env: offline })));
      runs.forEach((run, i) => {
        expect(run.code, `${commands[i]!.join(' ')}: ${run.stderr}`).to.equal(0);
        expect(run.stdout).to.match(new RegExp(`^Usage: twofold ${commands[i]!.length ? commands[i]!.join(' ') : '<command>'}`));
      });
      expect(runs[2]!.stdout).to.include('--password-stdin');
      expect(runs[8]!.stdout).to.include('--redirect-uri');
    });
  });

  describe('the embedded database (no DATABASE_URL)', () => {
    it('adds and lists users in PGlite under DATA_DIR', async () => {
      const embeddedDir = mkdtempSync(path.join(os.tmpdir(), 'twofold-cli-pglite-'));
      const embedded = { DATA_DIR: embeddedDir, SECRET_KEY: secretKey };
      try {
        const added = await runCli(['users', 'add', '--username', 'hana', '--email', 'hana@example.com', '--password-stdin'], { env: embedded, input: PASSWORD });
        expect(added.code, added.stderr).to.equal(0);
        const listed = await runCli(['users', 'list', '--json'], { env: embedded });
        expect(listed.code, listed.stderr).to.equal(0);
        expect((JSON.parse(listed.stdout) as { username: string }[]).map((u) => u.username)).to.deep.equal(['hana']);
        // The CLI released the data directory: no lock file is left for the server to trip over.
        expect(() => rmSync(path.join(embeddedDir, 'postgres.lock'))).to.throw(/ENOENT/);
      } finally {
        rmSync(embeddedDir, { recursive: true, force: true });
      }
    });
  });
});
