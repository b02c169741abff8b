// CPU seconds of the Twofold process, Postgres and Redis read from /proc, RSS, and latency percentiles.
import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
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

/** CPU ticks so far of each counted process, by pid, with the store it is counted under. */
export interface CpuReading {
  ticks: Map<number, { store: keyof CpuSample; ticks: number }>;
}

/** Reads the CPU used so far by the server's pid, every `postgres` process and every `redis-server` process. */
export function sampleCpu(serverPid: number): CpuReading {
  const ticks: CpuReading['ticks'] = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = readStat(pid);
    if (!stat) continue;
    const store = pid === serverPid ? 'twofold' : stat.comm === 'postgres' ? 'postgres' : stat.comm === 'redis-server' ? 'redis' : undefined;
    if (store) ticks.set(pid, { store, ticks: stat.ticks });
  }
  return { ticks };
}

/**
 * CPU seconds used between two readings, process by process: one that started in between counts from zero, and
 * one that exited in between (a pooled Postgres backend closed as idle) loses only its own share, not the others'.
 */
export function cpuBetween(before: CpuReading, after: CpuReading): CpuSample {
  const used: CpuSample = { twofold: 0, postgres: 0, redis: 0 };
  for (const [pid, now] of after.ticks) {
    const then = before.ticks.get(pid);
    // A pid reused by another process since the first reading shows fewer ticks than before: it counts from zero.
    used[now.store] += then && then.store === now.store && then.ticks <= now.ticks ? now.ticks - then.ticks : now.ticks;
  }
  const seconds = (t: number) => Math.round((t / clockTicks()) * 1000) / 1000;
  return { twofold: seconds(used.twofold), postgres: seconds(used.postgres), redis: seconds(used.redis) };
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

/** How fast the machine is at the moment: CPU ms of one argon2id hash and of a fixed piece of JavaScript work. */
export interface MachineSpeed {
  /** One hash with the server's parameters, the median of five. */
  argon2idMs: number;
  /** 20,000 rounds of JSON.stringify, JSON.parse, an HMAC-SHA-256 and a regex replace on a token-sized document, the median of three. */
  javascriptMs: number;
}

/**
 * Measured in the bench's own process, before and after a run: machines of one kind, and one machine from hour
 * to hour, differ by up to 2x, so per-CPU-second figures compare only between runs where these are close. The
 * server's work is mostly JavaScript, so the second figure follows its speed more closely than the hash.
 */
export function machineSpeed(): MachineSpeed {
  const median = (times: number[]) => Math.round(times.sort((a, b) => a - b)[Math.floor(times.length / 2)]! * 10) / 10;
  const cpuMs = (work: () => void) => {
    const before = process.cpuUsage();
    work();
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000;
  };
  const argon2idMs = median(Array.from({ length: 5 }, () => cpuMs(() => hashSync('bench reference password', ARGON2_OPTIONS))));
  const doc = { iss: 'http://127.0.0.1:3000', sub: randomUUID(), aud: ['client'], scope: 'openid profile email', claims: Array.from({ length: 20 }, (_, i) => ({ name: `claim${i}`, value: 'x'.repeat(i * 3) })) };
  let sink = 0;
  const javascriptMs = median(Array.from({ length: 3 }, () => cpuMs(() => {
    for (let i = 0; i < 20_000; i++) {
      const text = JSON.stringify({ ...doc, jti: i });
      sink += (JSON.parse(text) as typeof doc).claims.length;
      sink += createHmac('sha256', 'reference').update(text).digest('base64url').length;
      sink += text.replace(/claim(\d+)/g, 'c$1').length;
    }
  })));
  if (sink < 0) throw new Error('unreachable'); // keeps the work from being optimised away
  return { argon2idMs, javascriptMs };
}
