// The real server as a child process: start-up log, embedded and real backends, config errors, SIGTERM, restarts.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { testRedisUrl } from '../helpers/app.js';
import { openTestDatabase, testDatabaseUrl } from '../helpers/database.js';
import { freePort, freePorts } from '../helpers/ports.js';
import { createTestRedis, type TestRedis } from '../helpers/redis.js';
import { ServerProcess } from '../helpers/server-process.js';

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as T };
}

/** The kids of the server's published signing keys, sorted. */
async function jwksKids(port: number): Promise<string[]> {
  const { body } = await getJson<{ keys: { kid: string }[] }>(`http://127.0.0.1:${port}/jwks`);
  return body.keys.map((key) => key.kid).sort();
}

/** Asserts that the output carries no stack trace (a frame line like "    at fn (file.ts:1:2)"). */
function expectNoStackTrace(output: string): void {
  expect(output).not.to.match(/^\s+at .+[:(]/m);
}

describe('the server process', function () {
  const started: ServerProcess[] = [];
  const run = (env: Record<string, string>) => {
    const server = new ServerProcess(env);
    started.push(server);
    return server;
  };
  afterEach(async function () {
    await Promise.all(started.splice(0).map((server) => server.kill()));
  });

  describe('with the embedded defaults', function () {
    this.timeout(120_000);
    let dataDir: string;
    before(async function () {
      dataDir = await mkdtemp(path.join(os.tmpdir(), 'twofold-proc-'));
    });
    after(async function () {
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    it('serves discovery, health and readiness on PGlite and the in-process store, stops on SIGTERM and keeps its keys', async function () {
      const port = await freePort();
      const first = run({ PORT: String(port), DATA_DIR: dataDir });
      // PGlite's initdb on a fresh data directory takes a few seconds.
      await first.waitForLog(/^Twofold is listening/, 60_000);

      const backends = first.logs().find((line) => line.msg.startsWith('BACKENDS:'));
      expect(backends, 'one BACKENDS line').to.not.equal(undefined);
      expect(backends!.msg).to.contain(`embedded Postgres (PGlite) in ${dataDir}/postgres`);
      expect(backends!.msg).to.contain('in-process store');
      expect(first.logs().filter((line) => line.msg.startsWith('BACKENDS:'))).to.have.length(1);
      expect(first.logs().some((line) => /generated a development SECRET_KEY/.test(line.msg)), 'secret key generated on first start').to.equal(true);
      expect(existsSync(path.join(dataDir, 'secret.key'))).to.equal(true);

      const base = `http://127.0.0.1:${port}`;
      const discovery = await getJson<{ issuer: string; jwks_uri: string }>(`${base}/.well-known/openid-configuration`);
      expect(discovery.status).to.equal(200);
      expect(discovery.body.issuer).to.equal(`http://localhost:${port}`);
      expect((await fetch(`${base}/healthz`)).status).to.equal(200);
      expect(await getJson(`${base}/readyz`)).to.deep.equal({ status: 200, body: { status: 'ready', checks: { postgres: 'ok', redis: 'ok' } } });
      const kids = await jwksKids(port);
      expect(kids).to.have.length(2);

      const stopping = Date.now();
      first.child.kill('SIGTERM');
      expect(await first.exitCode(10_000)).to.equal(0);
      expect(Date.now() - stopping, 'stopped within a few seconds').to.be.below(5_000);
      expect(first.logs().some((line) => line.msg === 'stopped')).to.equal(true);

      // Same data directory, another port: the same keys, read back from PGlite and decrypted with secret.key.
      const port2 = await freePort();
      const second = run({ PORT: String(port2), DATA_DIR: dataDir });
      await second.waitForLog(/^Twofold is listening/, 60_000);
      expect(second.logs().some((line) => /generated a development SECRET_KEY/.test(line.msg)), 'no new secret key').to.equal(false);
      expect(await jwksKids(port2)).to.deep.equal(kids);
      second.child.kill('SIGTERM');
      expect(await second.exitCode(10_000)).to.equal(0);
      expectNoStackTrace(first.stdout + first.stderr + second.stdout + second.stderr);
    });
  });

  describe('with DATABASE_URL and REDIS_URL', function () {
    this.timeout(60_000);
    const schema = `t_${randomBytes(6).toString('hex')}`;
    let redis: TestRedis;
    let dataDir: string;
    before(async function () {
      redis = await createTestRedis();
      dataDir = await mkdtemp(path.join(os.tmpdir(), 'twofold-proc-'));
    });
    after(async function () {
      const database = await openTestDatabase(schema);
      await database.knex.raw('drop schema if exists ?? cascade', [schema]).finally(() => database.close());
      await redis?.cleanup();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });
    const serverEnv = (port: number) => ({
      PORT: String(port),
      DATA_DIR: dataDir,
      DATABASE_URL: testDatabaseUrl(),
      DATABASE_SCHEMA: schema,
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: redis.prefix,
    });

    it('names Postgres and Redis on the BACKENDS line and serves discovery', async function () {
      const port = await freePort();
      const server = run(serverEnv(port));
      await server.waitForLog(/^Twofold is listening/, 30_000);
      const backends = server.logs().find((line) => line.msg.startsWith('BACKENDS:'))!;
      expect(backends.msg).to.match(/^BACKENDS: Postgres \(DATABASE_URL\) \| Redis \(REDIS_URL\)( \||$)/);
      expect(backends.msg).not.to.contain('PGlite');
      expect(existsSync(path.join(dataDir, 'postgres')), 'no embedded database created').to.equal(false);
      const discovery = await getJson<{ issuer: string }>(`http://127.0.0.1:${port}/.well-known/openid-configuration`);
      expect(discovery.body.issuer).to.equal(`http://localhost:${port}`);
      expect((await getJson<{ checks: unknown }>(`http://127.0.0.1:${port}/readyz`)).body.checks).to.deep.equal({ postgres: 'ok', redis: 'ok' });
      server.child.kill('SIGTERM');
      expect(await server.exitCode(10_000)).to.equal(0);
    });

    it('exits 1 with a clear message when the port is already in use', async function () {
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '0.0.0.0', resolve));
      try {
        const { port } = blocker.address() as net.AddressInfo;
        const server = run(serverEnv(port));
        expect(await server.exitCode(30_000)).to.equal(1);
        expect(server.stdout + server.stderr).to.contain(`port ${port} is already in use`);
        expectNoStackTrace(server.stdout + server.stderr);
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    });

    it('serves Prometheus metrics on METRICS_PORT only, counting requests, security events and token results', async function () {
      const [port, metricsPort] = await freePorts(2) as [number, number];
      const server = run({ ...serverEnv(port), METRICS_PORT: String(metricsPort) });
      await server.waitForLog(/^Twofold is listening/, 30_000);
      expect(server.logs().some((line) => line.msg === `metrics at http://127.0.0.1:${metricsPort}/metrics`)).to.equal(true);
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/metrics`)).status, 'not on the public port').to.equal(404);

      // A client that does not exist asks for a token: refused, and audited as client.auth_failed.
      const refused = await fetch(`${base}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('no-such-client:secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      expect(refused.status).to.equal(401);
      const scrape = async () => {
        const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
        expect(response.status).to.equal(200);
        expect(response.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
        return response.text();
      };
      // The first scrape already has every gauge (a scrape collects them all at the same time).
      const first = await scrape();
      expect(first).to.match(/^twofold_store_up\{store="postgres"\} 1$/m);
      expect(first).to.match(/^twofold_store_up\{store="redis"\} 1$/m);
      // The audit event is recorded from oidc-provider's event, after the answer: poll briefly.
      let text = first;
      for (let tries = 0; tries < 50 && !text.includes('event="client.auth_failed"'); tries++) text = await scrape();
      expect(text).to.match(/^twofold_token_requests_total\{grant_type="client_credentials",outcome="refused"\} 1$/m);
      expect(text).to.match(/^twofold_audit_events_total\{event="client\.auth_failed"\} 1$/m);
      expect(text).to.match(/^twofold_http_request_duration_seconds_count\{endpoint="token",method="POST",status="4xx"\} 1$/m);
      expect(text).to.match(/^twofold_store_up\{store="postgres"\} 1$/m);
      expect(text).to.match(/^twofold_store_up\{store="redis"\} 1$/m);
      expect(text).to.match(/^twofold_process_cpu_seconds_total \d/m);
      expect(text).to.match(/^twofold_nodejs_eventloop_lag_p99_seconds \d/m);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/`)).status).to.equal(404);

      // A second server cannot have the same METRICS_PORT: it says so and exits 1.
      const clash = run({ ...serverEnv(await freePort()), METRICS_PORT: String(metricsPort) });
      expect(await clash.exitCode(30_000)).to.equal(1);
      expect(clash.stdout + clash.stderr).to.contain(`METRICS_PORT ${metricsPort} is already in use`);
      expectNoStackTrace(clash.stdout + clash.stderr);
      server.child.kill('SIGTERM');
      expect(await server.exitCode(10_000)).to.equal(0);
    });
  });

  describe('with an invalid configuration', function () {
    this.timeout(30_000);

    it('exits 2 and lists every problem at once, without a stack trace', async function () {
      const server = run({ PORT: 'abc', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', SESSION_TTL: 'forever' });
      expect(await server.exitCode(20_000)).to.equal(2);
      expect(server.stderr).to.contain('Invalid configuration');
      expect(server.stderr).to.match(/PORT: must be a port number from 1 to 65535, got "abc"/);
      expect(server.stderr).to.match(/LOG_LEVEL: must be one of/);
      expect(server.stderr).to.match(/DATABASE_URL: must be a postgres URL/);
      expect(server.stderr).to.match(/SESSION_TTL: "forever" is not a duration/);
      expectNoStackTrace(server.stderr);
      expect(server.stdout, 'nothing started').not.to.contain('BACKENDS');
    });

    it('exits 2 in production without DATABASE_URL, REDIS_URL and SECRET_KEY: the embedded defaults are for development only', async function () {
      const server = run({ NODE_ENV: 'production', PORT: String(await freePort()), DATA_DIR: os.tmpdir() });
      expect(await server.exitCode(20_000)).to.equal(2);
      expect(server.stderr).to.match(/DATABASE_URL: required in production \(the embedded Postgres is for development only\)/);
      expect(server.stderr).to.match(/REDIS_URL: required in production \(the in-process store is for development only\)/);
      expect(server.stderr).to.match(/SECRET_KEY: required in production/);
      expect(server.stderr).to.match(/SMTP_URL: required in production/);
      expectNoStackTrace(server.stderr);
      expect(server.stdout, 'nothing started').not.to.contain('BACKENDS');
    });
  });
});
