// `npm run bench`: starts Twofold in production mode, seeds it, drives six scenarios over keep-alive HTTP, writes results.
import { parseArgs } from 'node:util';
import { rssMb, processRuns } from './metrics.js';
import { machineFacts, writeReport, type BenchReport } from './report.js';
import { runScenario, type RunResult } from './run.js';
import { seed } from './seed.js';
import { BenchError, checkBackends, startServer, type BenchServer } from './server.js';
import { createContext, type Scenario } from './scenarios/context.js';
import { fullLogin, passwordLogin } from './scenarios/login.js';
import { clientCredentials, discovery, refreshToken, userinfo } from './scenarios/tokens.js';

const USAGE = `usage: npm run bench [-- options]
  --quick               one concurrency (8), 6-second runs: about a minute
  --concurrency LIST    comma-separated virtual users per run (default 1,8,32; quick 8)
  --seconds N           length of each measured run in seconds (default 15; quick 6)
  --cpu-prof DIR        run the server with node --cpu-prof, writing its profile to DIR on exit
  --help                show this help`;

const SCENARIOS: Scenario[] = [fullLogin, passwordLogin, clientCredentials, refreshToken, userinfo, discovery];

interface Options {
  quick: boolean;
  concurrency: number[];
  seconds: number;
  cpuProf: string | undefined;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { quick: { type: 'boolean' }, concurrency: { type: 'string' }, seconds: { type: 'string' }, 'cpu-prof': { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const concurrency = (values.concurrency ?? (quick ? '8' : '1,8,32')).split(',').map((s) => Number(s.trim()));
  if (concurrency.some((n) => !Number.isInteger(n) || n < 1 || n > 256)) throw new UsageError(`--concurrency: give whole numbers from 1 to 256, comma-separated (got "${values.concurrency}")`);
  const seconds = Number(values.seconds ?? (quick ? 6 : 15));
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 120) throw new UsageError(`--seconds: give a number from 1 to 120 (got "${values.seconds}")`);
  return { quick, concurrency, seconds, cpuProf: values['cpu-prof'] };
}

class UsageError extends Error {}

function progress(line: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  if (!processRuns('postgres') || !processRuns('redis-server')) {
    // The CPU figures read local processes: a remote store would make them meaningless.
    progress('warning: no local postgres or redis-server process found; their CPU seconds will read 0');
  }
  await checkBackends();
  progress('starting Twofold (NODE_ENV=production, LOG_LEVEL=warn) on a fresh schema and Redis prefix');
  const server: BenchServer = await startServer({ cpuProf: options.cpuProf });
  let report: BenchReport | undefined;
  try {
    progress(`Twofold is ready at ${server.issuer} (pid ${server.pid}); seeding`);
    const counts = options.quick ? { sysadmins: 1000, users: 500 } : { sysadmins: 3000, users: 1000 };
    const seedStart = Date.now();
    const seeded = await seed(server.env, counts);
    const seedSeconds = (Date.now() - seedStart) / 1000;
    progress(`seeded ${counts.sysadmins} sysadmins with an authenticator app, ${counts.users} users and 2 clients in ${seedSeconds.toFixed(1)} s`);
    const ctx = await createContext(server.issuer, seeded);
    // Warm-up, unmeasured: the first requests compile templates and JIT the hot paths.
    for (const scenario of SCENARIOS) await runScenario(ctx, scenario, { concurrency: 2, seconds: 1, serverPid: server.pid });
    const results: RunResult[] = [];
    for (const concurrency of options.concurrency) {
      for (const scenario of SCENARIOS) {
        const r = await runScenario(ctx, scenario, { concurrency, seconds: options.seconds, serverPid: server.pid });
        results.push(r);
        progress(
          `${scenario.name.padEnd(38)} c=${String(concurrency).padStart(2)}  ${String(r.completed).padStart(6)} done  ${String(r.perSecond).padStart(7)}/s  ` +
            `p50 ${r.p50Ms} p95 ${r.p95Ms} p99 ${r.p99Ms} ms  errors ${r.errors}  CPU ${r.cpuSeconds.total.toFixed(2)} s  ${r.perCpuSecond}/CPU-s` +
            (r.errorSamples.length ? `\n    first error: ${r.errorSamples[0]}` : ''),
        );
      }
    }
    report = {
      startedAt,
      mode: options.quick ? 'quick' : 'full',
      machine: machineFacts(),
      seeded: { ...counts, seedSeconds: Math.round(seedSeconds * 10) / 10 },
      results,
      rssMbAtEnd: rssMb(server.pid),
      mailsSent: server.mails(),
      durationSeconds: 0,
    };
  } finally {
    progress('stopping Twofold, dropping the schema and the Redis prefix');
    await server.stop();
  }
  report.durationSeconds = Math.round((Date.now() - started) / 1000);
  const files = writeReport(report);
  progress(`RSS at the end: ${report.rssMbAtEnd} MB; wrote ${files.join(' and ')} (and bench/results/latest.md)`);
  const failed = report.results.filter((r) => r.errors > 0);
  if (failed.length) {
    process.stderr.write(`bench: errors in ${failed.map((r) => `${r.scenario} (c=${r.concurrency}: ${r.errors})`).join(', ')}\n`);
    return 1;
  }
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(`bench: ${err instanceof BenchError ? err.message : (err as Error).stack}\n`);
  process.exitCode = 1;
}
