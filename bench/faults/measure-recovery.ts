// Reads one store cut off the recorded logins and /readyz samples: what failed, and how soon logins worked again.
import type { Attempt } from './drive-logins.js';
import type { ReadinessSample } from './watch-readiness.js';

export type Store = 'Redis' | 'Postgres';

/** One cut, in performance.now() time: cut at `cutAt`, restored at `restoredAt`, observed until `endAt`. */
export interface CutWindow {
  store: Store;
  cutAt: number;
  restoredAt: number;
  endAt: number;
}

export interface FailureCounts {
  /** Twofold's 503 page or 503 temporarily_unavailable: the expected answer while a store is down. */
  unavailable: number;
  /** Everything else: another status, a reset connection, a hang, a wrong answer. Must be 0. */
  other: number;
  otherByLabel: Record<string, number>;
  /** The first few messages of the other failures. */
  otherSamples: string[];
}

export interface CutResult extends FailureCounts {
  store: Store;
  cutSeconds: number;
  /** Logins started while the store was cut. */
  startedDuringCut: number;
  /** Logins that succeeded while the store was cut (e.g. one that only had its token exchange left during a Postgres cut). */
  succeededDuringCut: number;
  /** The longest failed login, from its start to its failure, in ms: how long a person waited for the 503. */
  slowestFailureMs: number;
  /** Whether /readyz reported this store unavailable during the cut: the proof that the cut reached Twofold. */
  readyzSawCut: boolean;
  /** From the restore to /readyz answering 200, in ms. */
  readyzBackMs: number | undefined;
  /** From the restore to the end of the first successful login started after it, in ms. */
  firstSuccessMs: number | undefined;
  /** From the restore to the point after which every login succeeded, in ms (time to recover). */
  steadyMs: number | undefined;
  /** Whether logins succeeded steadily within the bound, and kept on succeeding until the end of the observation. */
  recovered: boolean;
}

/** Counts the failures among `attempts` by kind. */
export function countFailures(attempts: Attempt[]): FailureCounts {
  const counts: FailureCounts = { unavailable: 0, other: 0, otherByLabel: {}, otherSamples: [] };
  for (const { failure } of attempts) {
    if (!failure) continue;
    if (failure.kind === 'unavailable') {
      counts.unavailable++;
      continue;
    }
    counts.other++;
    counts.otherByLabel[failure.label] = (counts.otherByLabel[failure.label] ?? 0) + 1;
    if (counts.otherSamples.length < 3) counts.otherSamples.push(failure.detail);
  }
  return counts;
}

/** Measures one cut; `boundMs` is the longest acceptable time to recover. */
export function measureCut(window: CutWindow, attempts: Attempt[], readiness: ReadinessSample[], boundMs: number): CutResult {
  const { cutAt, restoredAt, endAt } = window;
  const ms = (value: number) => Math.round(value);
  // A login belongs to the window in which it ended: one cut off by the cut fails inside it.
  const ended = attempts.filter((a) => a.end >= cutAt && a.end < endAt);
  const afterRestore = ended.filter((a) => a.start >= restoredAt);
  const firstSuccess = Math.min(...afterRestore.filter((a) => !a.failure).map((a) => a.end));
  const lastFailure = Math.max(...afterRestore.filter((a) => a.failure).map((a) => a.end));
  const steadyAt = Number.isFinite(firstSuccess) ? Math.max(firstSuccess, lastFailure) : undefined;
  // Steady means: successes after that point too, not a failure at the very end of the observation.
  const successesAfterSteady = steadyAt === undefined ? 0 : afterRestore.filter((a) => !a.failure && a.start >= steadyAt).length;
  const steadyMs = steadyAt === undefined || successesAfterSteady === 0 ? undefined : ms(steadyAt - restoredAt);
  const readyAgain = readiness.find((s) => s.start >= restoredAt && s.status === 200);
  const failed = ended.filter((a) => a.failure);
  return {
    store: window.store,
    cutSeconds: Math.round((restoredAt - cutAt) / 100) / 10,
    startedDuringCut: attempts.filter((a) => a.start >= cutAt && a.start < restoredAt).length,
    succeededDuringCut: ended.filter((a) => !a.failure && a.end < restoredAt).length,
    ...countFailures(ended),
    slowestFailureMs: ms(Math.max(0, ...failed.map((a) => a.end - a.start))),
    readyzSawCut: readiness.some((s) => s.start >= cutAt && s.end < restoredAt && s.checks[window.store.toLowerCase()] === 'unavailable'),
    readyzBackMs: readyAgain ? ms(readyAgain.end - restoredAt) : undefined,
    firstSuccessMs: Number.isFinite(firstSuccess) ? ms(firstSuccess - restoredAt) : undefined,
    steadyMs,
    recovered: steadyMs !== undefined && steadyMs <= boundMs,
  };
}
