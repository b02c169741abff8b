// Writes a run's results: bench/results/<timestamp>.json, its Markdown <timestamp>.md, and latest.md for scenario runs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FaultsReport } from './faults/run-faults.js';
import type { MachineSpeed } from './metrics.js';
import type { PassResult, RssCheck } from './passes.js';
import { referenceSection, type ReferenceReport } from './reference/run-reference.js';
import { root } from './server.js';

export interface BenchReport {
  startedAt: string;
  mode: 'quick' | 'full' | 'faults' | 'reference';
  /** How the server was started: node, the options of `npm start`, and the entry point. */
  serverCommand: string;
  /** How fast the machine was (machineSpeed) before the run and after it. */
  speed: { before: MachineSpeed; after?: MachineSpeed | undefined };
  machine: { cores: number; cpuModel: string; memoryGb: number; node: string; platform: string; commit: string; dirty: boolean };
  seeded: { sysadmins: number; users: number; seedSeconds: number };
  /** The scenario runs, every pass; empty in a faults run. */
  results: PassResult[];
  /** VmRSS of the Twofold process right after the last scenario (or the faults run). */
  rssMbAtEnd: number | undefined;
  /** Settled RSS after each pass of a scenario run with two or more passes, and its growth. */
  rss?: RssCheck;
  /** What a faults run saw. */
  faults?: FaultsReport;
  /** A reference run: Twofold and the baseline in turns. */
  reference?: ReferenceReport;
  mailsSent: number;
  durationSeconds: number;
}

const COMMANDS: Record<BenchReport['mode'], string> = {
  quick: 'npm run bench -- --quick',
  full: 'npm run bench',
  faults: 'npm run bench -- --faults',
  reference: 'npm run bench -- --reference',
};

/** Cores, CPU model, memory, Node version and the git commit (with whether the tree had changes). */
export function machineFacts(): BenchReport['machine'] {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 1e8) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    commit: git(['rev-parse', 'HEAD']) || 'unknown',
    // Results of earlier runs, not yet committed, do not change what is measured.
    dirty: git(['status', '--porcelain', '--', '.', ':(exclude)bench/results']) !== '',
  };
}

function resultsTable(results: PassResult[]): string[] {
  const passes = results.some((r) => r.pass > 1);
  const pass = (r: PassResult) => (passes ? ` ${r.pass} |` : '');
  return [
    `|${passes ? ' pass |' : ''} scenario | conc. | completed | per s | p50 ms | p95 ms | p99 ms | errors | CPU s Twofold | CPU s Postgres | CPU s Redis | **per CPU-s** |`,
    `|${passes ? '---:|' : ''}---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
    ...results.map((r) =>
      `|${pass(r)} ${r.scenario} | ${r.concurrency} | ${r.completed} | ${r.perSecond} | ${r.p50Ms} | ${r.p95Ms} | ${r.p99Ms} | ${r.errors} | ${r.cpuSeconds.twofold.toFixed(2)} | ${r.cpuSeconds.postgres.toFixed(2)} | ${r.cpuSeconds.redis.toFixed(2)} | **${r.perCpuSecond}** |`,
    ),
  ];
}

function rssLine(rss: RssCheck): string {
  const each = rss.passes.map((p) => `pass ${p.pass} ${p.rssMb} MB after ${p.idleSeconds} s${p.settled ? '' : ' (did not settle)'}`).join(', ');
  const growth = rss.growthMb === undefined ? '?' : `${rss.growthMb >= 0 ? '+' : ''}${rss.growthMb} MB`;
  const verdict = rss.withinBound ? 'within the bound' : rss.passes.every((p) => p.settled) ? '**grew beyond the bound**' : '**not comparable: a pass did not settle**';
  return `Settled RSS after each pass (the lowest sample once the idle server gave memory back): ${each}. From the first pass to the last: ${growth} (bound ${rss.growthBoundMb} MB): ${verdict}.`;
}

function faultsSection(f: FaultsReport): string[] {
  const s = (ms: number | undefined) => (ms === undefined ? 'never' : (ms / 1000).toFixed(1));
  const other = (c: { other: number; otherByLabel: Record<string, number> }) =>
    c.other ? `**${c.other}** (${Object.entries(c.otherByLabel).map(([label, n]) => `${label}: ${n}`).join('; ')})` : '0';
  const lost = f.nothingLost;
  return [
    `Faults: ${f.concurrency} virtual users sign sysadmins in (password + TOTP + token exchange) while Redis, then Postgres, then SMTP is cut for ${f.cutSeconds} s through a TCP proxy (every connection reset). A request without an answer after ${f.requestTimeoutSeconds} s counts as a hang. Logins must succeed steadily within ${f.recoveryBoundSeconds} s of the restore.`,
    '',
    '| store cut | cut s | logins started during the cut | succeeded during the cut | 503 temporarily unavailable | other failures | slowest failed login ms | /readyz 200 after s | first login after s | steady after s | recovered |',
    '|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|',
    ...f.cuts.map((c) =>
      `| ${c.store} | ${c.cutSeconds} | ${c.startedDuringCut} | ${c.succeededDuringCut} | ${c.unavailable} | ${other(c)} | ${c.slowestFailureMs} | ${s(c.readyzBackMs)} | ${s(c.firstSuccessMs)} | ${s(c.steadyMs)} | ${c.recovered ? 'yes' : '**no**'} |`,
    ),
    '',
    ...(f.smtp
      ? [
          `SMTP cut for ${f.smtp.cutSeconds} s afterwards: ${f.smtp.loginsDuringCut} logins with the authenticator app ended during it and ${f.smtp.failedDuringCut} failed; ` +
            `"send me a code by email" answered ${f.smtp.duringCut.status} (${f.smtp.duringCut.outcome}) during the cut and ${f.smtp.afterRestore.status} (${f.smtp.afterRestore.outcome}, ${f.smtp.afterRestore.mailsArrived} mail) after it.`,
          '',
        ]
      : []),
    `Outside the cuts: ${f.outside.logins} logins, ${f.outside.unavailable + f.outside.other} failed. ${f.serverExited ? `**The Twofold process exited (${f.serverExited}).**` : 'The Twofold process never exited.'}`,
    '',
    `Nothing lost: ${lost.before.accounts} accounts and ${lost.before.authenticators} authenticator apps before the cuts, ${lost.after.accounts} and ${lost.after.authenticators} after; ` +
      `audit events ${lost.before.auditEvents} before the cuts, ${lost.after.auditEvents} after; ${lost.successfulLogins} logins succeeded in the run and ${lost.after.loginsRecorded} login.succeeded events were recorded; ` +
      `${lost.signInsAgain.succeeded} of ${lost.signInsAgain.tried} sysadmins (most of them cut off during an outage) signed in again with password and TOTP.`,
    '',
    f.problems.length ? `**Failed:**\n${f.problems.map((p) => `- ${p}`).join('\n')}` : '**Passed.**',
  ];
}

/** The Markdown of a report, with the facts it was measured under. */
export function markdown(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    `Run ${report.startedAt} (${report.mode}: \`${COMMANDS[report.mode]}\`), ${m.cores} cores (${m.cpuModel}), Node ${m.node}, commit ${m.commit.slice(0, 7)}${m.dirty ? ' with uncommitted changes' : ''}, server started as \`${report.serverCommand}\`; ${report.seeded.sysadmins} sysadmins and ${report.seeded.users} users seeded. Machine speed, before the run${report.speed.after ? ' / after it' : ''}: the reference JavaScript took ${report.speed.before.javascriptMs}${report.speed.after ? ` / ${report.speed.after.javascriptMs}` : ''} ms of CPU and one argon2id hash (m=19 MiB, t=2) ${report.speed.before.argon2idMs}${report.speed.after ? ` / ${report.speed.after.argon2idMs}` : ''} ms (lower is faster; compare runs only where these are close).`,
    '',
  ];
  if (report.results.length) lines.push(...resultsTable(report.results), '');
  if (report.faults) lines.push(...faultsSection(report.faults), '');
  if (report.reference) lines.push(...referenceSection(report.reference), '');
  lines.push(`RSS of the Twofold process at the end: ${report.rssMbAtEnd ?? '?'} MB. Whole run: ${report.durationSeconds} s.`, '');
  if (report.rss?.passes.length) lines.push(rssLine(report.rss), '');
  return lines.join('\n');
}

/** Writes the JSON and Markdown files, and replaces latest.md unless it is a faults run; returns the paths written. */
export function writeReport(report: BenchReport): string[] {
  const dir = path.join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const json = path.join(dir, `${stamp}.json`);
  const md = path.join(dir, `${stamp}.md`);
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(md, markdown(report));
  if (report.mode === 'faults' || report.mode === 'reference') return [json, md];
  // latest.md is the latest scenario run, the one the README quotes; a faults or reference run has no such table.
  const latest = path.join(dir, 'latest.md');
  writeFileSync(latest, markdown(report));
  return [json, md, latest];
}
