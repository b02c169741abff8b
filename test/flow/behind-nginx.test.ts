// compose.yaml's proxy, run here without containers: Debian's nginx with deploy/nginx/twofold.conf in front of two
// Twofold processes in production mode, on one Postgres schema and one Redis prefix.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createClient, createUser, startTestApp, type TestApp } from '../helpers/app.js';
import { Browser } from '../helpers/browser.js';
import { signInWithCodeAndRefresh } from '../helpers/nodes.js';
import { connectAuthenticator } from '../helpers/phone.js';
import { discoverClient, startSignIn } from '../helpers/relying-party.js';
import { freePort } from '../helpers/ports.js';
import { nodeOf, startNodes, type ServerProcess } from '../helpers/server-process.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { createTotpSecret, totpCodeAt } from '../../src/security/totp.js';

const NGINX = process.env['NGINX_PATH'] || '/usr/sbin/nginx';
const CONF = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../deploy/nginx/twofold.conf');
const PASSWORD = 'behind nginx password 1';

/**
 * The repository's site configuration with only the addresses changed: the nodes' host names (node1, node2 on the
 * compose network) become their local ports, and nginx listens on a free local port instead of 8080.
 */
function localSite(conf: string, nodePorts: [number, number], listenPort: number): string {
  const replaced = conf
    .replace(/server node1:3000 /, `server 127.0.0.1:${nodePorts[0]} `)
    .replace(/server node2:3000 /, `server 127.0.0.1:${nodePorts[1]} `)
    .replace(/listen 8080;/, `listen 127.0.0.1:${listenPort};`);
  // A changed twofold.conf that these no longer match would otherwise test nothing.
  for (const expected of [`127.0.0.1:${nodePorts[0]}`, `127.0.0.1:${nodePorts[1]}`, `listen 127.0.0.1:${listenPort};`]) {
    if (!replaced.includes(expected)) throw new Error(`deploy/nginx/twofold.conf no longer has the addresses this test replaces (${expected})`);
  }
  return replaced;
}

describe('two nodes behind the nginx of compose.yaml', function () {
  this.timeout(120_000);
  let setup: TestApp;
  let smtp: TestSmtpServer;
  let dir: string;
  let nginx: ChildProcess | undefined;
  let issuer: string;
  let nodes: ServerProcess[] = [];
  let nodePorts: number[] = [];

  /** The upstream address nginx used for each request so far, from its access log. */
  async function upstreams(): Promise<string[]> {
    const log = await readFile(path.join(dir, 'access.log'), 'utf8').catch(() => '');
    return log.split('\n').filter(Boolean).map((line) => line.split('|')[0]!);
  }

  /** A sysadmin with an authenticator app, and a relying party that discovered Twofold through nginx. */
  async function sysadminWithApp(username: string) {
    const account = await createUser(setup, { username, password: PASSWORD, role: 'sysadmin' });
    const secret = createTotpSecret();
    await connectAuthenticator(setup, account.id, secret);
    return { account, secret, rp: await discoverClient(issuer, await createClient(setup)) };
  }

  before(async function () {
    if (!existsSync(NGINX)) throw new Error(`nginx is not installed at ${NGINX} (apt-get install -y nginx-light)`);
    setup = await startTestApp();
    smtp = await startSmtpServer();
    dir = await mkdtemp(path.join(os.tmpdir(), 'twofold-nginx-'));
    const listenPort = await freePort();
    issuer = `http://127.0.0.1:${listenPort}`;
    const { config } = setup;
    ({ nodes, ports: nodePorts } = await startNodes(2, (_port, i) => ({
      // As compose.yaml runs them: production mode, one public issuer (nginx's), the client's address from nginx.
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      ISSUER: issuer,
      TRUST_PROXY: 'true',
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Twofold <no-reply@localhost>',
      ...nodeOf(config, path.join(dir, `node${i + 1}`)),
    })));

    await writeFile(path.join(dir, 'twofold.conf'), localSite(await readFile(CONF, 'utf8'), [nodePorts[0]!, nodePorts[1]!], listenPort));
    // The part the official image supplies around conf.d/default.conf, with every path inside this test's folder.
    await writeFile(path.join(dir, 'nginx.conf'), [
      'daemon off;',
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      'events { worker_connections 256; }',
      'http {',
      '  log_format upstream "$upstream_addr|$request_method $uri $status";',
      `  access_log ${dir}/access.log upstream;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${dir}/${kind};`),
      `  include ${dir}/twofold.conf;`,
      '}',
      '',
    ].join('\n'));
    const check = spawnSync(NGINX, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
    expect(check.status, `nginx -t:\n${check.stderr}`).to.equal(0);
    nginx = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'ignore' });
    for (let waited = 0; ; waited += 100) {
      if ((await fetch(`${issuer}/healthz`).catch(() => undefined))?.ok) break;
      if (waited > 10_000) throw new Error(`nginx did not answer on ${issuer}:\n${await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  after(async function () {
    nginx?.kill('SIGTERM');
    await Promise.all(nodes.map((node) => node.kill()));
    await smtp?.stop();
    await setup?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('signs in with password and app code and refreshes through the proxy, with both nodes serving', async function () {
    const { account, secret, rp } = await sysadminWithApp('olga');
    expect(rp.config.serverMetadata().issuer, 'the nodes name nginx as the issuer').to.equal(issuer);

    const before = (await upstreams()).length;
    await signInWithCodeAndRefresh(rp, new Browser(), { username: 'olga', password: PASSWORD, accountId: account.id, code: () => totpCodeAt(secret, Date.now()) });
    const served = (await upstreams()).slice(before);
    // nginx balances round robin: a journey of a dozen requests reaches both nodes.
    expect(new Set(served), served.join(', ')).to.have.keys(`127.0.0.1:${nodePorts[0]}`, `127.0.0.1:${nodePorts[1]}`);
  });

  it('counts a failure against the address nginx saw, not one the client wrote into X-Forwarded-For', async function () {
    const account = await createUser(setup, { username: 'pavel', password: PASSWORD });
    const client = await createClient(setup);
    const rp = await discoverClient(issuer, client);
    // Every request of this browser claims another address; nginx replaces the header with the one it sees.
    const spoofing = new (class extends Browser {
      override request(url: string, init?: Parameters<Browser['request']>[1]): Promise<Response> {
        return super.request(url, { ...init, headers: { ...init?.headers, 'x-forwarded-for': '203.0.113.9' } });
      }
    })();
    await startSignIn(rp, 'pavel', 'not the password', {}, spoofing).catch(() => undefined);
    const [failed] = await setup.queries.auditEvents.list({ accountId: account.id, event: 'password.failed', limit: 1 });
    expect(failed?.ip).to.equal('127.0.0.1');
  });

  it('sends the requests of a node that is down to the other one, and the sign-in still completes', async function () {
    const { account, secret, rp } = await sysadminWithApp('quinn');
    await nodes[1]!.kill();

    const before = (await upstreams()).length;
    for (let i = 0; i < 6; i++) expect((await fetch(`${issuer}/.well-known/openid-configuration`)).status).to.equal(200);
    await signInWithCodeAndRefresh(rp, new Browser(), { username: 'quinn', password: PASSWORD, accountId: account.id, code: () => totpCodeAt(secret, Date.now()) });
    // A request nginx first tried on the dead node shows both addresses ("a, b"); each ends on the live node.
    const served = (await upstreams()).slice(before);
    expect(served.every((upstream) => upstream.endsWith(`127.0.0.1:${nodePorts[0]}`)), served.join(' ')).to.equal(true);
    expect(nodes[0]!.child.exitCode, nodes[0]!.stderr).to.equal(null);
  });
});
