// `twofold keys rotate` and `twofold keys list` as a subprocess on a real Postgres schema, and their bad input.
// The tests run in order on one schema, each starting from the keys the one before left.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createTestDatabase, testDatabaseUrl, type TestDatabase } from '../helpers/database.js';
import { expectRefused, runCli, type CliRun } from '../helpers/run-cli.js';

const ISO_SECOND = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/;

interface ListedKey {
  kid: string;
  alg: string;
  state: string;
  sign_from: string;
  retired_at?: string;
  published_until?: string;
  created_at: string;
}

describe('twofold keys', function () {
  this.timeout(90_000);
  let db: TestDatabase;
  let dataDir: string;
  const secretKey = randomBytes(32).toString('hex');
  const env = () => ({ DATABASE_URL: testDatabaseUrl(), DATABASE_SCHEMA: db.schema, SECRET_KEY: secretKey, DATA_DIR: dataDir, ID_TOKEN_TTL: '10m' });
  const cli = (args: string[]) => runCli(args, { env: env() });
  const rowCount = async () => Number((await db.knex('signing_keys').count({ n: '*' }))[0]!['n']);
  const list = async (): Promise<ListedKey[]> => {
    const run = await cli(['keys', 'list', '--json']);
    expect(run.code, run.stderr).to.equal(0);
    return JSON.parse(run.stdout) as ListedKey[];
  };

  before(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'twofold-cli-keys-'));
  });
  after(async () => {
    await db?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists no keys before the server or a rotation made any', async () => {
    const run = await cli(['keys', 'list']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.equal('');
    expect(run.stderr).to.match(/No signing keys yet/);
  });

  it('rotates: new RS256 and ES256 keys that sign in an hour by default, recorded in the audit log', async () => {
    const started = Date.now();
    const run = await cli(['keys', 'rotate', '--json']);
    expect(run.code, run.stderr).to.equal(0);
    const { added, removed } = JSON.parse(run.stdout) as { added: { kid: string; alg: string; sign_from: string }[]; removed: unknown[] };
    expect(added.map((key) => key.alg)).to.deep.equal(['RS256', 'ES256']);
    expect(removed).to.deep.equal([]);
    for (const key of added) expect(Date.parse(key.sign_from) - started).to.be.within(3600_000, 3600_000 + 30_000);

    // The database had no keys: it got keys that sign now, which the new ones follow.
    const keys = await list();
    expect(keys.map((key) => `${key.alg}:${key.state}`)).to.deep.equal(['RS256:signing', 'RS256:next', 'ES256:signing', 'ES256:next']);
    expect(keys.filter((key) => key.state === 'next').map((key) => key.kid)).to.deep.equal(added.map((key) => key.kid));
    expect(JSON.stringify(keys)).not.to.match(/"d"|private/);

    const [event] = await db.knex('audit_events').where({ event: 'signing_keys.rotated' });
    expect(event.ip).to.equal('cli');
    expect(event.details.added.map((key: { kid: string }) => key.kid)).to.deep.equal(added.map((key) => key.kid));
  });

  it('shows the state of each key in a table', async () => {
    const run = await cli(['keys', 'list']);
    expect(run.code, run.stderr).to.equal(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).to.match(/^KID\s+ALG\s+STATE\s+CREATED$/);
    expect(lines[1]).to.match(/^[0-9a-f-]{36}\s+RS256\s+signing\s+\d{4}-\d\d-\d\d \d\d:\d\dZ$/);
    expect(lines[2]).to.match(new RegExp(`^[0-9a-f-]{36}\\s+RS256\\s+next \\(signs from ${ISO_SECOND.source}\\)\\s+\\d{4}-`));
  });

  it('refuses a second rotation while the first one\'s keys have yet to sign, changing nothing', async () => {
    const before = await rowCount();
    expectRefused(await cli(['keys', 'rotate', '--activate-in', '10m']), 2, /keys of an earlier rotation, .* sign from .*; rotate again after that/);
    expect(await rowCount()).to.equal(before);
  });

  it('lists a replaced key as retired until its tokens have expired, then as expired; a rotation deletes it', async () => {
    const keys = await list();
    const [oldRsa, oldEc] = keys.filter((key) => key.state === 'signing');
    // The pending keys took over a minute ago: the old ones are retired, published for ID_TOKEN_TTL + 5 minutes more.
    await db.knex('signing_keys').whereIn('kid', [oldRsa!.kid, oldEc!.kid]).update({ sign_from: new Date(Date.now() - 2 * 3600_000) });
    await db.knex('signing_keys').whereIn('kid', keys.filter((key) => key.state === 'next').map((key) => key.kid)).update({ sign_from: new Date(Date.now() - 60_000) });
    const retired = (await list()).find((key) => key.kid === oldRsa!.kid)!;
    expect(retired.state).to.equal('retired');
    expect(Date.parse(retired.published_until!) - Date.parse(retired.retired_at!)).to.equal((600 + 300) * 1000);
    expect((await cli(['keys', 'list'])).stdout).to.match(new RegExp(`${oldRsa!.kid}\\s+RS256\\s+retired \\(published until ${ISO_SECOND.source}\\)`));

    // Twenty minutes ago: no token the old keys signed is still valid, so they are no longer published.
    await db.knex('signing_keys').whereNotIn('kid', [oldRsa!.kid, oldEc!.kid]).update({ sign_from: new Date(Date.now() - 20 * 60_000) });
    expect((await list()).find((key) => key.kid === oldRsa!.kid)?.state).to.equal('expired');

    const run = await cli(['keys', 'rotate', '--activate-in', '10m']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^Added RS256 key [0-9a-f-]{36}: it signs from \S+\.\nAdded ES256 key /);
    expect(run.stdout).to.include(`Removed RS256 key ${oldRsa!.kid}: it was no longer published.`);
    expect(run.stdout).to.include(`Removed ES256 key ${oldEc!.kid}: it was no longer published.`);
    expect(run.stderr).to.match(/Every node publishes the new keys within 30s and signs with them from/);
    const after = await list();
    expect(after.map((key) => key.kid)).not.to.include.members([oldRsa!.kid, oldEc!.kid]);
    expect(after.map((key) => `${key.alg}:${key.state}`)).to.deep.equal(['RS256:signing', 'RS256:next', 'ES256:signing', 'ES256:next']);
    const next = after.find((key) => key.alg === 'RS256' && key.state === 'next')!;
    expect(Date.parse(next.sign_from) - Date.now()).to.be.within(9 * 60_000, 10 * 60_000);
  });

  const badInput: [string, string[], RegExp][] = [
    ['a delay under the minimum', ['keys', 'rotate', '--activate-in', '90s'], /--activate-in must be at least 2m, got 90s: every node reloads the keys every 30s/],
    ['a delay that is no duration', ['keys', 'rotate', '--activate-in', 'soon'], /--activate-in "soon" is not a duration; use e\.g\. 10m, 1h or 1d/],
    ['a delay over the maximum', ['keys', 'rotate', '--activate-in', '60d'], /--activate-in must be at most 30d, got 60d/],
    ['a missing delay', ['keys', 'rotate', '--activate-in'], /'--activate-in <value>' argument missing/],
    ['an unknown flag', ['keys', 'rotate', '--activate', '1h'], /Unknown option '--activate'.*keys rotate --help/],
    ['an extra argument', ['keys', 'list', 'all'], /expected no arguments, got "all"/],
    ['an unknown keys command', ['keys', 'prune'], /twofold keys: unknown command "prune"; use rotate or list/],
    ['no keys command', ['keys'], /twofold keys: give a command: rotate or list/],
  ];
  for (const [label, args, pattern] of badInput) {
    it(`answers ${label} with exit code 2 and one message, changing nothing`, async () => {
      const before = await rowCount();
      expectRefused(await cli(args), 2, pattern);
      expect(await rowCount()).to.equal(before);
    });
  }

  it('names the keys command among the commands', async () => {
    expectRefused(await cli(['frobnicate']), 2, /the commands are users, clients, keys and migrate/);
    expect((await runCli(['--help'], { env: env() })).stdout).to.match(/keys rotate\|list/);
  });

  it('has --help for keys, keys rotate and keys list, without needing a database', async () => {
    const offline = { ...env(), DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' };
    for (const command of [['keys'], ['keys', 'rotate'], ['keys', 'list']]) {
      const run = await runCli([...command, '--help'], { env: offline });
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(new RegExp(`^Usage: twofold ${command.join(' ')}`));
    }
  });

  it('fails with exit code 1 and a clear message when Postgres is unreachable', async () => {
    for (const args of [['keys', 'list'], ['keys', 'rotate']]) {
      const run = await runCli(args, { env: { ...env(), DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' } });
      expectRefused(run, 1, /^twofold: could not open the database \(postgres:\/\/postgres@127\.0\.0\.1:1\/test\): .*ECONNREFUSED.*Is Postgres running/);
      expect(run.stderr.trim().split('\n')).to.have.length(1);
    }
  });
});
