// `npm run bench`: starts Twofold in production mode, seeds it, drives six scenarios (or a faults run), writes results.
import { startFaultProxy, targetOf, type FaultProxy } from '../test/helpers/fault-proxy.js';
import { REQUEST_TIMEOUT_MS, runFaults } from './faults/run-faults.js';
import type { Store } from './faults/measure-recovery.js';
import { machineSpeed, rssMb, processRuns } from './metrics.js';
import { parseOptions, UsageError, USAGE, type Options } from './options.js';
import { runPasses } from './passes.js';
import { machineFacts, writeReport, type BenchReport } from './report.js';
import { seed } from './seed.js';
import { BenchError, checkBackends, databaseUrl, redisUrl, startOptions, startServer, type BenchServer } from './server.js';
import { createContext, type Scenario } from './scenarios/context.js';
import { runReference } from './reference/run-reference.js';
import { fullLogin, passwordLogin } from './scenarios/login.js';
import { clientCredentials, discovery, refreshToken, userinfo } from './scenarios/tokens.js';

const SCENARIOS: Scenario[] = [fullLogin, passwordLogin, clientCredentials, refreshToken, userinfo, discovery];

function progress(line: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

/** How many accounts a run seeds: enough sysadmins that the TOTP replay guard never makes a virtual user wait. */
function seedCounts(options: Options): { sysadmins: number; users: number } {
  if (options.kind === 'faults') return { sysadmins: 3000, users: 10 };
  // The baseline logs in faster than Twofold: enough sysadmins for 30 s of it at full speed.
  if (options.kind === 'reference') return { sysadmins: 4000, users: 10 };
  return options.quick ? { sysadmins: 1000, users: 500 } : { sysadmins: 3000, users: 1000 };
}

/** Starts a fault proxy in front of Postgres and one in front of Redis (faults runs only). */
async function startProxies(): Promise<Record<Store, FaultProxy>> {
  const postgres = await startFaultProxy(targetOf(databaseUrl()));
  try {
    return { Postgres: postgres, Redis: await startFaultProxy(targetOf(redisUrl())) };
  } catch (err) {
    await postgres.close();
    throw err;
  }
}

async function main(): Promise<number> {
  let options: Options | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const started = Date.now();
  const serverCommand = ['node', ...startOptions(), 'dist/src/main.js'].join(' ');
  const speedBefore = machineSpeed();
  progress(`machine speed: the reference JavaScript takes ${speedBefore.javascriptMs} ms of CPU here, one argon2id hash ${speedBefore.argon2idMs} ms`);
  const startedAt = new Date(started).toISOString();
  if (!processRuns('postgres') || !processRuns('redis-server')) {
    // The CPU figures read local processes: a remote store would make them meaningless.
    progress('warning: no local postgres or redis-server process found; their CPU seconds will read 0');
  }
  await checkBackends();
  const proxies = options.kind === 'faults' ? await startProxies() : undefined;
  const storeUrls = proxies && { database: proxies.Postgres.urlFor(databaseUrl()), redis: proxies.Redis.urlFor(redisUrl()) };
  progress(`building, then starting Twofold (NODE_ENV=production, LOG_LEVEL=warn, ${serverCommand}) on a fresh schema and Redis prefix${proxies ? ', reaching both through fault proxies' : ''}`);
  let server: BenchServer;
  try {
    server = await startServer({ cpuProf: options.cpuProf, storeUrls, smtpProxy: options.kind === 'faults' });
  } catch (err) {
    await Promise.all([proxies?.Postgres.close(), proxies?.Redis.close()]);
    throw err;
  }
  let report: BenchReport | undefined;
  try {
    progress(`Twofold is ready at ${server.issuer} (pid ${server.pid}); seeding`);
    const counts = seedCounts(options);
    const seedStart = Date.now();
    // Seeding goes to the stores directly, never through the proxies.
    const seeded = await seed({ ...server.env, DATABASE_URL: databaseUrl(), REDIS_URL: redisUrl() }, counts);
    const seedSeconds = (Date.now() - seedStart) / 1000;
    progress(`seeded ${counts.sysadmins} sysadmins with an authenticator app, ${counts.users} users and 2 clients in ${seedSeconds.toFixed(1)} s`);
    const base = { startedAt, serverCommand, speed: { before: speedBefore }, machine: machineFacts(), seeded: { ...counts, seedSeconds: Math.round(seedSeconds * 10) / 10 }, durationSeconds: 0 };
    if (options.kind === 'faults') {
      const ctx = await createContext(server.issuer, seeded, { requestTimeoutMs: REQUEST_TIMEOUT_MS });
      const faults = await runFaults({ ctx, server, proxies: proxies!, seededAccounts: counts.sysadmins + counts.users, progress }, options);
      report = { ...base, mode: 'faults', results: [], rssMbAtEnd: rssMb(server.pid), faults, mailsSent: server.mails() };
    } else if (options.kind === 'reference') {
      const ctx = await createContext(server.issuer, seeded);
      const reference = await runReference({ ctx, pid: server.pid }, seeded, { ...options, progress });
      report = { ...base, mode: 'reference', results: [], rssMbAtEnd: rssMb(server.pid), reference, mailsSent: server.mails() };
    } else {
      const ctx = await createContext(server.issuer, seeded);
      const passes = await runPasses(ctx, SCENARIOS, { ...options, serverPid: server.pid, progress });
      report = { ...base, mode: options.quick ? 'quick' : 'full', results: passes.results, rssMbAtEnd: passes.rssMbAtEnd, rss: passes.rss, mailsSent: server.mails() };
    }
  } finally {
    progress('stopping Twofold, dropping the schema and the Redis prefix');
    await server.stop();
    await Promise.all([proxies?.Postgres.close(), proxies?.Redis.close()]);
  }
  report.durationSeconds = Math.round((Date.now() - started) / 1000);
  report.speed.after = machineSpeed();
  const files = writeReport(report);
  progress(`RSS at the end: ${report.rssMbAtEnd ?? '?'} MB; wrote ${files.join(', ')}`);
  return verdict(report);
}

/** Exit code 1, with the reasons on stderr, when a scenario had errors or a faults run found a problem. */
function verdict(report: BenchReport): number {
  const failed = report.results.filter((r) => r.errors > 0);
  if (failed.length) {
    process.stderr.write(`bench: errors in ${failed.map((r) => `${r.scenario} (c=${r.concurrency}${r.pass > 1 ? `, pass ${r.pass}` : ''}: ${r.errors})`).join(', ')}\n`);
    return 1;
  }
  if (report.faults?.problems.length) {
    process.stderr.write(`bench: the faults run failed:\n${report.faults.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  // RSS growth is reported, not failed on: like the throughput targets, it is read from the results.
  if (report.rss?.withinBound === false) progress(`note: settled RSS from the first pass to the last: ${report.rss.growthMb} MB (bound ${report.rss.growthBoundMb} MB)${report.rss.passes.every((p) => p.settled) ? '' : '; a pass did not settle'}`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(`bench: ${err instanceof BenchError ? err.message : (err as Error).stack}\n`);
  process.exitCode = 1;
}
