// The container image built without Docker: each stage of the Dockerfile laid out in a folder on this machine as
// its COPY and npm lines say; the runtime one (production dependencies only, the compiled code, the views, the CLI)
// started with the image's CMD and checked with its HEALTHCHECK. It catches code that needs a dev dependency, and
// a file the image does not copy.
import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/paths.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { freePort } from '../helpers/ports.js';
import { nodeOf, ServerProcess } from '../helpers/server-process.js';

interface Stage {
  env: Record<string, string>;
  /** COPY lines in order: sources and destination, and the stage they come from (undefined: the build context). */
  copies: { from?: string; sources: string[]; destination: string }[];
  runs: string[];
  cmd: string[];
  healthcheck: string[];
}

/** The instructions of one stage of the Dockerfile (`FROM ... AS name`), continuation lines joined. */
function dockerStage(dockerfile: string, name: string): Stage {
  const lines = dockerfile.replace(/\\\n\s*/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  const from = lines.findIndex((line) => new RegExp(`^FROM \\S+ AS ${name}$`, 'i').test(line));
  if (from < 0) throw new Error(`the Dockerfile has no "FROM ... AS ${name}" stage`);
  const stage: Stage = { env: {}, copies: [], runs: [], cmd: [], healthcheck: [] };
  for (const line of lines.slice(from + 1)) {
    const [instruction, ...rest] = line.split(/\s+/);
    if (instruction === 'FROM') break;
    const args = rest.join(' ');
    if (instruction === 'ENV') for (const [, key, value] of args.matchAll(/(\w+)=(\S+)/g)) stage.env[key!] = value!;
    else if (instruction === 'COPY') {
      const from = rest[0]?.startsWith('--from=') ? rest.shift()!.slice('--from='.length) : undefined;
      stage.copies.push({ from, sources: rest.slice(0, -1), destination: rest[rest.length - 1]! });
    } else if (instruction === 'RUN') stage.runs.push(args);
    else if (instruction === 'CMD') stage.cmd = JSON.parse(args) as string[];
    else if (instruction === 'HEALTHCHECK') stage.healthcheck = JSON.parse(args.slice(args.indexOf('CMD ') + 4)) as string[];
  }
  return stage;
}

/**
 * Lays a stage out in `dir` (its /app): its COPY lines (from the repository, or from another stage's folder as
 * /app/...), then the npm commands of its RUN lines. The other commands (users, links, modes) only matter in a
 * container. Returns the npm commands it ran.
 */
async function layOut(stage: Stage, dir: string, stageDirs: Record<string, string>): Promise<string[]> {
  for (const { from, sources, destination } of stage.copies) {
    for (const source of sources) {
      const origin = from === undefined ? path.join(projectRoot, source) : path.join(stageDirs[from]!, path.relative('/app', source));
      const target = destination.endsWith('/') && !source.endsWith('/') ? path.join(dir, destination, path.basename(source)) : path.join(dir, destination);
      await cp(origin, target, { recursive: true });
    }
  }
  const ran: string[] = [];
  for (const command of stage.runs.flatMap((run) => run.split('&&').map((part) => part.trim()))) {
    if (!command.startsWith('npm ') || command.startsWith('npm cache')) continue;
    const quiet = command.startsWith('npm ci') ? ' --no-audit --no-fund' : '';
    const result = spawnSync('sh', ['-c', command + quiet], { cwd: dir, encoding: 'utf8' });
    expect(result.status, `${command}:\n${result.stdout}${result.stderr}`).to.equal(0);
    ran.push(command);
  }
  return ran;
}

describe('the container image, built without Docker', function () {
  this.timeout(180_000);
  let setup: TestApp;
  let root: string;
  /** The runtime stage's /app. */
  let app: string;
  let stage: Stage;
  let server: ServerProcess | undefined;
  let env: Record<string, string>;

  before(async function () {
    const dockerfile = await readFile(path.join(projectRoot, 'Dockerfile'), 'utf8');
    stage = dockerStage(dockerfile, 'runtime');
    setup = await startTestApp();
    root = await mkdtemp(path.join(os.tmpdir(), 'twofold-image-'));
    const build = path.join(root, 'build');
    app = path.join(root, 'runtime');
    // The build stage as written: its files, npm ci and npm run build, in a folder of its own.
    expect(await layOut(dockerStage(dockerfile, 'build'), build, {})).to.deep.equal(['npm ci', 'npm run build']);
    // The runtime stage: production dependencies only (npm ci --omit=dev), and what it copies from the build.
    expect(await layOut(stage, app, { build })).to.deep.equal(['npm ci --omit=dev']);
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
    if (root) await rm(root, { recursive: true, force: true });
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
