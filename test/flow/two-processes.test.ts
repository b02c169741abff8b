// Two real Twofold processes on two ports, one Postgres schema and one Redis prefix: every request alternates.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createClient, createUser, startTestApp, type TestApp } from '../helpers/app.js';
import { Rotation, signInWithCodeAndRefresh } from '../helpers/nodes.js';
import { connectAuthenticator } from '../helpers/phone.js';
import { discoverClient, logOut, startAuthorization } from '../helpers/relying-party.js';
import { nodeOf, startNodes, type ServerProcess } from '../helpers/server-process.js';
import { createTotpSecret, totpCodeAt } from '../../src/security/totp.js';

const PASSWORD = 'two processes password 1';

describe('two server processes, one provider', function () {
  this.timeout(120_000);
  // The test's own app creates the schema, the Redis prefix, the accounts and the client; it serves no request.
  let setup: TestApp;
  let dataDir: string;
  let nodes: ServerProcess[] = [];
  let ports: number[] = [];

  before(async function () {
    setup = await startTestApp();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'twofold-nodes-'));
    const { config } = setup;
    ({ nodes, ports } = await startNodes(2, (_port, i) => ({
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      // One issuer for both, as behind a load balancer: the setup app's address, which the rotation maps to a node.
      ISSUER: config.issuer,
      ...nodeOf(config, path.join(dataDir, String(i))),
    })));
  });
  after(async function () {
    await Promise.all(nodes.map((node) => node.kill()));
    await setup?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('signs in with password and app code, refreshes and logs out, with every request on the other process', async function () {
    const account = await createUser(setup, { username: 'nadia', password: PASSWORD, role: 'sysadmin' });
    const secret = createTotpSecret();
    await connectAuthenticator(setup, account.id, secret);
    const client = await createClient(setup);
    // Discovery from the setup app (same issuer); every later request goes to the processes in turn.
    const rp = await discoverClient(setup.issuer, client);
    const rotation = new Rotation(setup.issuer, ports.map((port) => ({ issuer: `http://127.0.0.1:${port}` })));
    rotation.attach(rp.config);
    const browser = rotation.browser();

    const tokens = await signInWithCodeAndRefresh(rp, browser, { username: 'nadia', password: PASSWORD, accountId: account.id, code: () => totpCodeAt(secret, Date.now()) });

    const { confirm, done: loggedOut } = await logOut(browser, rp, { idToken: tokens.id_token!, postLogoutRedirectUri: client.postLogoutRedirectUri, state: 'bye' });
    expect(confirm.html).to.contain('Log out of Twofold?');
    expect(loggedOut.stoppedAt).to.equal(`${client.postLogoutRedirectUri}?state=bye`);
    const again = await browser.follow((await startAuthorization(rp)).url);
    expect(again.html, 'the session is gone on both processes').to.contain('Log in');

    expect(Math.min(...rotation.hits), 'requests each process served').to.be.at.least(6);
    expect(Math.abs(rotation.hits[0]! - rotation.hits[1]!)).to.be.at.most(1);
    for (const node of nodes) expect(node.child.exitCode, node.stderr).to.equal(null);
  });
});
