// Runs the scenario set one or more times against the same server, and with two or more its settled RSS after each.
import { rssMb, settledMemory } from './metrics.js';
import { runScenario, type RunResult } from './run.js';
import type { BenchContext, Scenario } from './scenarios/context.js';

/** The longest the server is left idle after a pass for its RSS to settle. */
export const SETTLE_MAX_SECONDS = 120;
/** How much settled RSS may grow from the first pass to the last. */
export const RSS_GROWTH_BOUND_MB = 10;

export type PassResult = RunResult & { pass: number };

export interface RssCheck {
  settleMaxSeconds: number;
  /** Settled RSS after each pass: the lowest of one sample a second while the server idled (see settledMemory). */
  passes: { pass: number; rssMb: number; anonMb: number; idleSeconds: number; settled: boolean; samplesMb: number[] }[];
  /** Settled RSS after the last pass minus after the first, in MB. */
  growthMb: number | undefined;
  growthBoundMb: number;
  /** Whether the growth stayed within the bound, and every pass settled (else the figures are not comparable). */
  withinBound: boolean | undefined;
}

export interface PassesResult {
  results: PassResult[];
  /** VmRSS right after the last scenario, before the server idled. */
  rssMbAtEnd: number | undefined;
  /** With two or more passes. */
  rss: RssCheck | undefined;
}

/** Warms up, then runs every scenario at every concurrency, `repeat` times; with repeat > 1, RSS is settled after each pass. */
export async function runPasses(
  ctx: BenchContext,
  scenarios: Scenario[],
  options: { concurrency: number[]; seconds: number; repeat: number; serverPid: number; progress: (line: string) => void },
): Promise<PassesResult> {
  const { serverPid, progress } = options;
  // Warm-up, unmeasured: the first requests compile templates and JIT the hot paths.
  for (const scenario of scenarios) await runScenario(ctx, scenario, { concurrency: 2, seconds: 1, serverPid });
  const results: PassResult[] = [];
  const passes: RssCheck['passes'] = [];
  let rssMbAtEnd: number | undefined;
  for (let pass = 1; pass <= options.repeat; pass++) {
    for (const concurrency of options.concurrency) {
      for (const scenario of scenarios) {
        const r = await runScenario(ctx, scenario, { concurrency, seconds: options.seconds, serverPid });
        results.push({ ...r, pass });
        progress(
          `${options.repeat > 1 ? `pass ${pass}  ` : ''}${scenario.name.padEnd(38)} c=${String(concurrency).padStart(2)}  ${String(r.completed).padStart(6)} done  ${String(r.perSecond).padStart(7)}/s  ` +
            `p50 ${r.p50Ms} p95 ${r.p95Ms} p99 ${r.p99Ms} ms  errors ${r.errors}  CPU ${r.cpuSeconds.total.toFixed(2)} s  ${r.perCpuSecond}/CPU-s` +
            (r.errorSamples.length ? `\n    first error: ${r.errorSamples[0]}` : ''),
        );
      }
    }
    if (pass === options.repeat) rssMbAtEnd = rssMb(serverPid);
    if (options.repeat === 1) break;
    progress(`pass ${pass} done at RSS ${rssMb(serverPid)} MB; the server idles until its RSS settles (at most ${SETTLE_MAX_SECONDS} s)`);
    const memory = await settledMemory(serverPid, SETTLE_MAX_SECONDS);
    if (!memory) continue;
    passes.push({ pass, rssMb: memory.rssMb, anonMb: memory.anonMb, idleSeconds: memory.samplesMb.length, settled: memory.settled, samplesMb: memory.samplesMb });
    progress(`settled RSS after pass ${pass}: ${memory.rssMb} MB (anonymous ${memory.anonMb} MB) after ${memory.samplesMb.length} s idle${memory.settled ? '' : ', still falling or never fell'}`);
  }
  if (options.repeat === 1) return { results, rssMbAtEnd, rss: undefined };
  const first = passes[0];
  const last = passes[passes.length - 1];
  const growthMb = first && last && passes.length > 1 ? Math.round((last.rssMb - first.rssMb) * 10) / 10 : undefined;
  return {
    results,
    rssMbAtEnd,
    rss: {
      settleMaxSeconds: SETTLE_MAX_SECONDS,
      passes,
      growthMb,
      growthBoundMb: RSS_GROWTH_BOUND_MB,
      withinBound: growthMb === undefined ? undefined : growthMb <= RSS_GROWTH_BOUND_MB && passes.every((p) => p.settled),
    },
  };
}
