// `npm run bench -- --faults`: full sysadmin logins while Redis, then Postgres, then SMTP is cut through a TCP proxy.
import type { FaultProxy } from '../../test/helpers/fault-proxy.js';
import type { BenchContext } from '../scenarios/context.js';
import type { BenchServer } from '../server.js';
import { countStoreRows, findLosses, signInAgain, type NothingLost } from './check-nothing-lost.js';
import { cutSmtp, type SmtpCutResult } from './cut-smtp.js';
import { startLoginLoad, type Attempt } from './drive-logins.js';
import { countFailures, measureCut, type CutResult, type CutWindow, type FailureCounts, type Store } from './measure-recovery.js';
import { watchReadiness } from './watch-readiness.js';

/** Logins must succeed steadily again within this many seconds of a store coming back. */
export const RECOVERY_BOUND_SECONDS = 10;
/** A request without an answer after this long counts as a hang (Twofold answers 503 within a few seconds). */
export const REQUEST_TIMEOUT_MS = 10_000;
// Logins before the first cut, and how long each restore is watched: the bound plus a margin of steady success.
const BASELINE_MS = 3_000;
const OBSERVE_MS = RECOVERY_BOUND_SECONDS * 1000 + 3_000;
const STORES: Store[] = ['Redis', 'Postgres'];

export interface FaultsReport {
  concurrency: number;
  cutSeconds: number;
  /** How the proxy cuts: every open and new connection is reset, as when the host is gone. */
  cutMode: 'reset';
  recoveryBoundSeconds: number;
  requestTimeoutSeconds: number;
  /** Logins that ended outside the cuts and their observation (before the first, after the last): all must succeed. */
  outside: FailureCounts & { logins: number };
  cuts: CutResult[];
  /** The SMTP cut, after the stores' (missing if the process exited before it). */
  smtp: SmtpCutResult | undefined;
  /** How the Twofold process ended if it did during the run ("code 1", "signal SIGKILL"); undefined if it never exited. */
  serverExited: string | undefined;
  nothingLost: NothingLost;
  /** Every reason the run failed; empty when it passed. */
  problems: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number | undefined) => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);

/** Drives logins through a Redis cut and a Postgres cut and reports what failed, how, and how fast logins recovered. */
export async function runFaults(
  deps: { ctx: BenchContext; server: BenchServer; proxies: Record<Store, FaultProxy>; seededAccounts: number; progress: (line: string) => void },
  options: { concurrency: number; cutSeconds: number },
): Promise<FaultsReport> {
  const { ctx, server, proxies, progress } = deps;
  const schema = server.env['DATABASE_SCHEMA']!;
  const boundMs = RECOVERY_BOUND_SECONDS * 1000;
  const readiness = watchReadiness(server.issuer, { everyMs: 250, timeoutMs: REQUEST_TIMEOUT_MS });
  const load = startLoginLoad(ctx, options.concurrency);
  progress(`${options.concurrency} virtual users sign sysadmins in (password + TOTP + token exchange); ${BASELINE_MS / 1000} s before the first cut`);
  await sleep(BASELINE_MS);
  const before = await countStoreRows(schema);

  const windows: CutWindow[] = [];
  const cuts: CutResult[] = [];
  for (const store of STORES) {
    const cutAt = performance.now();
    proxies[store].cut('reset');
    progress(`${store} cut: every connection to it is reset for ${options.cutSeconds} s`);
    await sleep(options.cutSeconds * 1000);
    const restoredAt = performance.now();
    proxies[store].restore();
    progress(`${store} is reachable again; watching logins for ${OBSERVE_MS / 1000} s`);
    await sleep(OBSERVE_MS);
    const window = { store, cutAt, restoredAt, endAt: performance.now() };
    windows.push(window);
    const cut = measureCut(window, load.attempts, readiness.samples, boundMs);
    cuts.push(cut);
    progress(
      `${store} cut ${cut.cutSeconds} s: ${cut.startedDuringCut} logins started during it, ${cut.succeededDuringCut} succeeded; ` +
        `failures: ${cut.unavailable} × 503 temporarily unavailable, ${cut.other} other; slowest failed login ${cut.slowestFailureMs} ms; ` +
        `/readyz back after ${seconds(cut.readyzBackMs)}, first login after ${seconds(cut.firstSuccessMs)}, steady after ${seconds(cut.steadyMs)}` +
        (cut.otherSamples.length ? `\n    first other failure: ${cut.otherSamples[0]}` : ''),
    );
    if (server.exited()) break;
  }
  // The email back-up is asked for by two sysadmins at the end of the pool, which the logins do not reach in one run.
  const pool = ctx.seeded.sysadmins;
  const smtp = server.smtpProxy && !server.exited()
    ? await cutSmtp({ ctx, proxy: server.smtpProxy, load, mails: server.mails, progress }, { cutSeconds: options.cutSeconds, probeUsers: [pool[pool.length - 1]!.username, pool[pool.length - 2]!.username] })
    : undefined;
  await load.stop();
  await readiness.stop();
  const serverExited = server.exited();

  const first = windows[0]?.cutAt ?? Infinity;
  const last = windows[windows.length - 1]?.endAt ?? -Infinity;
  const outsideAttempts = load.attempts.filter((a) => a.end < first || a.end >= last);
  const outside = { logins: outsideAttempts.length, ...countFailures(outsideAttempts) };

  progress('checking that nothing was lost: accounts, authenticators, audit events, and cut-off sysadmins signing in again');
  const after = await countStoreRows(schema);
  const successfulLogins = load.attempts.filter((a) => !a.failure).length;
  const signInsAgain = serverExited ? { tried: 0, succeeded: 0, failures: [] } : await signInAgain(ctx, usersToSignInAgain(load.attempts, windows));
  const lossless = { before, after, successfulLogins, signInsAgain };
  const nothingLost: NothingLost = { ...lossless, problems: findLosses(lossless, deps.seededAccounts) };

  const problems: string[] = [];
  if (serverExited) problems.push(`the Twofold process exited during the run (${serverExited})`);
  const outsideFailures = outside.unavailable + outside.other;
  if (outsideFailures) problems.push(`${outsideFailures} of ${outside.logins} logins failed while both stores were up: ${outside.otherSamples[0] ?? '503 temporarily unavailable'}`);
  for (const cut of cuts) {
    if (cut.other) problems.push(`${cut.store} cut: ${cut.other} failures other than Twofold's 503 (${Object.entries(cut.otherByLabel).map(([label, n]) => `${label}: ${n}`).join(', ')})`);
    if (!cut.readyzSawCut) problems.push(`${cut.store} cut: /readyz never reported ${cut.store.toLowerCase()} unavailable, so the cut did not reach Twofold`);
    if (!cut.recovered) problems.push(`${cut.store} cut: logins did not succeed steadily within ${RECOVERY_BOUND_SECONDS} s of the restore (steady after ${seconds(cut.steadyMs)})`);
  }
  if (smtp) problems.push(...smtp.problems);
  else if (!serverExited) problems.push('SMTP was not cut: the server was started without a proxy in front of the SMTP sink');
  problems.push(...nothingLost.problems);
  return {
    concurrency: options.concurrency,
    cutSeconds: options.cutSeconds,
    cutMode: 'reset',
    recoveryBoundSeconds: RECOVERY_BOUND_SECONDS,
    requestTimeoutSeconds: REQUEST_TIMEOUT_MS / 1000,
    outside,
    cuts,
    smtp,
    serverExited,
    nothingLost,
    problems,
  };
}

/** Up to five sysadmins whose login failed in each cut, and two whose login never failed. */
function usersToSignInAgain(attempts: Attempt[], windows: CutWindow[]) {
  const failed = windows.flatMap((w) => [...new Set(attempts.filter((a) => a.failure && a.end >= w.cutAt && a.end < w.endAt).map((a) => a.user))].slice(0, 5));
  const unharmed = [...new Set(attempts.filter((a) => !a.failure).map((a) => a.user))].filter((u) => !attempts.some((a) => a.failure && a.user === u)).slice(0, 2);
  return [...new Set([...failed, ...unharmed])];
}
