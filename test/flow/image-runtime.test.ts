// The container image's runtime stage, laid out as the Dockerfile lays it out but in a folder on this machine:
// production dependencies only, the compiled code, the views and the CLI, started with the image's CMD and
// checked with its HEALTHCHECK. It catches code that needs a dev dependency, or a file the image does not copy.
import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/paths.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { freePort, nodeOf, ServerProcess } from '../helpers/server-process.js';

interface RuntimeStage {
  env: Record<string, string>;
  /** [sources, destination] of each COPY from the build context, relative to /app. */
  copies: [string[], string][];
  /** What the build stage hands over (COPY --from=build). */
  fromBuild: [string, string][];
  runs: string[];
  cmd: string[];
  healthcheck: string[];
}

/** The instructions of the Dockerfile's runtime stage, continuation lines joined. */
function runtimeStage(dockerfile: string): RuntimeStage {
  const lines = dockerfile.replace(/\\\n\s*/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  const from = lines.findIndex((line) => /^FROM \S+ AS runtime$/i.test(line));
  if (from < 0) throw new Error('the Dockerfile has no "FROM ... AS runtime" stage');
  const stage: RuntimeStage = { env: {}, copies: [], fromBuild: [], runs: [], cmd: [], healthcheck: [] };
  for (const line of lines.slice(from + 1)) {
    const [instruction, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (instruction === 'ENV') for (const [, key, value] of args.matchAll(/(\w+)=(\S+)/g)) stage.env[key!] = value!;
    else if (instruction === 'COPY' && rest[0]?.startsWith('--from=build')) stage.fromBuild.push([rest[1]!, rest[2]!]);
    else if (instruction === 'COPY') stage.copies.push([rest.slice(0, -1), rest[rest.length - 1]!]);
    else if (instruction === 'RUN') stage.runs.push(args);
    else if (instruction === 'CMD') stage.cmd = JSON.parse(args) as string[];
    else if (instruction === 'HEALTHCHECK') stage.healthcheck = JSON.parse(args.slice(args.indexOf('CMD ') + 4)) as string[];
  }
  return stage;
}

describe('the container image runtime, laid out without Docker', function () {
  this.timeout(180_000);
  let setup: TestApp;
  let app: string;
  let stage: RuntimeStage;
  let server: ServerProcess | undefined;
  let env: Record<string, string>;

  before(async function () {
    stage = runtimeStage(await readFile(path.join(projectRoot, 'Dockerfile'), 'utf8'));
    setup = await startTestApp();
    app = await mkdtemp(path.join(os.tmpdir(), 'twofold-image-'));
    for (const [sources, destination] of stage.copies) {
      for (const source of sources) {
        const target = destination.endsWith('/') && !source.endsWith('/') ? path.join(app, destination, path.basename(source)) : path.join(app, destination);
        await cp(path.join(projectRoot, source), target, { recursive: true });
      }
    }
    // The build stage's output: src and migrations compiled by tsc, as `npm run build` does there.
    expect(stage.fromBuild, 'the build stage hands over dist/ only').to.deep.equal([['/app/dist/', './dist/']]);
    const tsc = spawnSync(process.execPath, [path.join(projectRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', path.join(app, 'dist')], { cwd: projectRoot, encoding: 'utf8' });
    expect(tsc.status, tsc.stdout + tsc.stderr).to.equal(0);
    // The stage's npm ci, as written (production dependencies only); the other RUNs set up users and links.
    const install = stage.runs.find((run) => run.startsWith('npm ci'));
    expect(install, 'the runtime stage installs with npm ci').to.match(/^npm ci --omit=dev\b/);
    const npm = spawnSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], { cwd: app, encoding: 'utf8' });
    expect(npm.status, npm.stdout + npm.stderr).to.equal(0);

    const port = await freePort();
    env = {
      ...stage.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      ISSUER: `http://localhost:${port}`,
      ...nodeOf(setup.config, path.join(app, 'data')),
      // Nothing is sent in this test; production mode only needs a mail server named.
      SMTP_URL: 'smtp://127.0.0.1:9',
    };
  });
  after(async function () {
    await server?.kill();
    await setup?.close();
    if (app) await rm(app, { recursive: true, force: true });
  });

  it('has no dev dependency installed, and starts with the image CMD and answers its HEALTHCHECK', async function () {
    expect(stage.env['NODE_ENV']).to.equal('production');
    const installed = JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    for (const name of ['tsx', 'typescript', 'mocha']) {
      expect(Object.keys(installed.devDependencies)).to.include(name);
      expect(spawnSync(process.execPath, ['-e', `require.resolve(${JSON.stringify(name)})`], { cwd: app }).status, `${name} is not in the image`).to.not.equal(0);
    }
    expect(stage.cmd[0]).to.equal('node');
    server = new ServerProcess(env, { cwd: app, args: stage.cmd.slice(1) });
    await server.waitForLog(/^Twofold is listening/, 60_000);
    const [command, ...args] = stage.healthcheck;
    expect(command).to.equal('node');
    const health = spawnSync(process.execPath, args, { cwd: app, env: { PATH: process.env['PATH'] ?? '', PORT: env['PORT']! }, encoding: 'utf8' });
    expect(health.status, health.stderr).to.equal(0);
    const discovery = await fetch(`http://127.0.0.1:${env['PORT']}/.well-known/openid-configuration`);
    expect(discovery.status).to.equal(200);
    expect(((await discovery.json()) as { issuer: string }).issuer).to.equal(env['ISSUER']);
  });

  it('runs the twofold CLI from the image, with the node environment', async function () {
    const cli = spawn(process.execPath, ['bin/twofold.js', 'users', 'list'], { cwd: app, env: { PATH: process.env['PATH'] ?? '', ...env } });
    let out = '';
    cli.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    cli.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => cli.on('exit', resolve));
    expect(code, out).to.equal(0);
    expect(out).not.to.contain('not built');
  });
});
