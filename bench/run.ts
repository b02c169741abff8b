// Runs one scenario step in a closed loop: `concurrency` virtual users for a fixed time; latencies, errors and CPU.
import { cpuBetween, percentile, sampleCpu, type CpuSample } from './metrics.js';
import type { BenchContext, Scenario } from './scenarios/context.js';

export interface RunResult {
  scenario: string;
  concurrency: number;
  seconds: number;
  completed: number;
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  errors: number;
  /** The first few error messages, to say what went wrong. */
  errorSamples: string[];
  cpuSeconds: CpuSample & { total: number };
  /** Completed per CPU-second of Twofold + Postgres + Redis: the figure comparable across noisy machines. */
  perCpuSecond: number;
}

/** Prepares the scenario, then runs it for `seconds` at `concurrency` and measures. */
export async function runScenario(ctx: BenchContext, scenario: Scenario, options: { concurrency: number; seconds: number; serverPid: number }): Promise<RunResult> {
  const step = await scenario.prepare(ctx, options.concurrency);
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  const cpuBefore = sampleCpu(options.serverPid);
  const started = performance.now();
  const end = started + options.seconds * 1000;
  await Promise.all(
    Array.from({ length: options.concurrency }, async (_, vu) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await step(vu);
          latencies.push(performance.now() - t0);
        } catch (err) {
          errors++;
          if (errorSamples.length < 3) errorSamples.push((err as Error).message.slice(0, 400));
          // A failing step must not spin: an error costs the virtual user a short pause.
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuBetween(cpuBefore, sampleCpu(options.serverPid));
  const total = Math.round((cpu.twofold + cpu.postgres + cpu.redis) * 1000) / 1000;
  latencies.sort((a, b) => a - b);
  const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
  return {
    scenario: scenario.name,
    concurrency: options.concurrency,
    seconds: round(seconds, 2),
    completed: latencies.length,
    perSecond: round(latencies.length / seconds),
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    p99Ms: round(percentile(latencies, 99)),
    errors,
    errorSamples,
    cpuSeconds: { ...cpu, total },
    perCpuSecond: total > 0 ? round(latencies.length / total) : 0,
  };
}
