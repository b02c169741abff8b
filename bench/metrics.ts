// CPU seconds of the Twofold process, Postgres and Redis read from /proc, RSS, and latency percentiles.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { hashSync } from '@node-rs/argon2';
import { ARGON2_OPTIONS } from '../src/security/passwords.js';

let ticks: number | undefined;

/** Clock ticks per second (getconf CLK_TCK, usually 100). */
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** The comm name and utime+stime (in ticks) of one process; undefined when it is gone. */
function readStat(pid: number): { comm: string; ticks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may contain spaces: the fields after it start after the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // After comm: state is field 3, utime field 14 and stime field 15 (1-based over the whole line).
    return { comm, ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

export interface CpuSample {
  twofold: number;
  postgres: number;
  redis: number;
}

/** CPU seconds used so far by the server's pid, every `postgres` process and every `redis-server` process. */
export function sampleCpu(serverPid: number): CpuSample {
  const sample: CpuSample = { twofold: 0, postgres: 0, redis: 0 };
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = readStat(pid);
    if (!stat) continue;
    if (pid === serverPid) sample.twofold += stat.ticks;
    else if (stat.comm === 'postgres') sample.postgres += stat.ticks;
    else if (stat.comm === 'redis-server') sample.redis += stat.ticks;
  }
  const hz = clockTicks();
  return { twofold: sample.twofold / hz, postgres: sample.postgres / hz, redis: sample.redis / hz };
}

/** CPU used between two samples; a backend that exited in between only loses its own share (never negative). */
export function cpuBetween(before: CpuSample, after: CpuSample): CpuSample {
  const d = (a: number, b: number) => Math.max(0, Math.round((b - a) * 1000) / 1000);
  return { twofold: d(before.twofold, after.twofold), postgres: d(before.postgres, after.postgres), redis: d(before.redis, after.redis) };
}

/** Whether any process with this comm name runs on this machine. */
export function processRuns(comm: string): boolean {
  return readdirSync('/proc').some((entry) => /^[0-9]+$/.test(entry) && readStat(Number(entry))?.comm === comm);
}

/** Resident set size of a process in MB (VmRSS); undefined when it is gone. */
export function rssMb(pid: number): number | undefined {
  return memoryMb(pid)?.rss;
}

/** VmRSS and its anonymous part (RssAnon: heap and buffers, without mapped code) in MB; undefined when it is gone. */
export function memoryMb(pid: number): { rss: number; anon: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+([0-9]+) kB`).exec(status)?.[1] ?? NaN);
    const mb = (value: number) => Math.round(value / 102.4) / 10;
    const rss = kb('VmRSS');
    return Number.isNaN(rss) ? undefined : { rss: mb(rss), anon: mb(kb('RssAnon')) };
  } catch {
    return undefined;
  }
}

export interface SettledMemory {
  /** The lowest VmRSS seen while the server idled, in MB. */
  rssMb: number;
  /** The lowest RssAnon seen, in MB. */
  anonMb: number;
  /** Every VmRSS sample, in MB, one a second. */
  samplesMb: number[];
  /** Whether RSS fell and then held still before `maxSeconds`; false means it was still at its working size. */
  settled: boolean;
}

/**
 * RSS once the idle server has given back what the load left behind. The server cannot be told to collect
 * garbage from outside (that would need --expose-gc and an endpoint for it), and an idle Node process collects on
 * its own only after a while: after 40 to 70 s on a 2-core machine, when RSS falls by about half and then holds.
 * So this samples once a second until RSS has fallen by a tenth from the first sample and held within 1 MB for
 * 10 samples, or for `maxSeconds`, and keeps the lowest sample.
 */
export async function settledMemory(pid: number, maxSeconds: number): Promise<SettledMemory | undefined> {
  const samples: { rss: number; anon: number }[] = [];
  let settled = false;
  while (samples.length < maxSeconds && !settled) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const sample = memoryMb(pid);
    if (!sample) break;
    samples.push(sample);
    const recent = samples.slice(-10).map((s) => s.rss);
    settled = recent.length === 10 && Math.max(...recent) < samples[0]!.rss * 0.9 && Math.max(...recent) - Math.min(...recent) <= 1;
  }
  if (!samples.length) return undefined;
  return { rssMb: Math.min(...samples.map((s) => s.rss)), anonMb: Math.min(...samples.map((s) => s.anon)), samplesMb: samples.map((s) => s.rss), settled };
}

/** The p-th percentile (0-100) of sorted values, nearest rank; 0 for none. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/**
 * CPU milliseconds of one argon2id hash with the server's parameters, the median of five, taken in the bench's
 * own process: how fast the machine is at that moment. Machines of one kind, and one machine from hour to hour,
 * differ by up to 2x, so runs compare only where this does too.
 */
export function referenceHashMs(): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const before = process.cpuUsage();
    hashSync('bench reference password', ARGON2_OPTIONS);
    const used = process.cpuUsage(before);
    times.push((used.user + used.system) / 1000);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[2]! * 10) / 10;
}
