// Writes a run's results: bench/results/<timestamp>.json, the Markdown table <timestamp>.md, and latest.md.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResult } from './run.js';
import { root } from './server.js';

export interface BenchReport {
  startedAt: string;
  mode: 'quick' | 'full';
  machine: { cores: number; cpuModel: string; memoryGb: number; node: string; platform: string; commit: string; dirty: boolean };
  seeded: { sysadmins: number; users: number; seedSeconds: number };
  results: RunResult[];
  /** VmRSS of the Twofold process after the last scenario. */
  rssMbAtEnd: number | undefined;
  mailsSent: number;
  durationSeconds: number;
}

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
    dirty: git(['status', '--porcelain']) !== '',
  };
}

/** The Markdown table of a report, with the facts it was measured under. */
export function markdown(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    `Run ${report.startedAt} (${report.mode}${report.mode === 'quick' ? ': `npm run bench -- --quick`' : ': `npm run bench`'}), ${m.cores} cores (${m.cpuModel}), Node ${m.node}, commit ${m.commit.slice(0, 7)}${m.dirty ? ' with uncommitted changes' : ''}; ${report.seeded.sysadmins} sysadmins and ${report.seeded.users} users seeded.`,
    '',
    '| scenario | conc. | completed | per s | p50 ms | p95 ms | p99 ms | errors | CPU s Twofold | CPU s Postgres | CPU s Redis | **per CPU-s** |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...report.results.map((r) =>
      `| ${r.scenario} | ${r.concurrency} | ${r.completed} | ${r.perSecond} | ${r.p50Ms} | ${r.p95Ms} | ${r.p99Ms} | ${r.errors} | ${r.cpuSeconds.twofold.toFixed(2)} | ${r.cpuSeconds.postgres.toFixed(2)} | ${r.cpuSeconds.redis.toFixed(2)} | **${r.perCpuSecond}** |`,
    ),
    '',
    `RSS of the Twofold process at the end: ${report.rssMbAtEnd ?? '?'} MB. Whole run: ${report.durationSeconds} s.`,
    '',
  ];
  return lines.join('\n');
}

/** Writes the JSON and Markdown files and replaces latest.md; returns the paths written. */
export function writeReport(report: BenchReport): string[] {
  const dir = path.join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const json = path.join(dir, `${stamp}.json`);
  const md = path.join(dir, `${stamp}.md`);
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(md, markdown(report));
  writeFileSync(path.join(dir, 'latest.md'), markdown(report));
  return [json, md];
}
