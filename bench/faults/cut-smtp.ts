// The SMTP part of the faults run: logins with the authenticator app must not notice, and the email back-up must
// say it could not send while SMTP is cut, then send again once it is back.
import type { FaultProxy } from '../../test/helpers/fault-proxy.js';
import type { BenchContext } from '../scenarios/context.js';
import type { LoginLoad } from './drive-logins.js';
import { countFailures } from './measure-recovery.js';
import { ResponseError } from '../response-error.js';
import { askForEmailCode, type EmailCodeProbe } from './probe-email-code.js';

export interface SmtpCutResult {
  cutSeconds: number;
  /** Logins (password + TOTP) that ended while SMTP was cut, and how many of them failed (must be none). */
  loginsDuringCut: number;
  failedDuringCut: number;
  /** "Send me a code by email" while SMTP was cut: must answer 503 with the page that says the email could not be sent. */
  duringCut: EmailCodeProbe;
  /** The same right after the restore: must send the code. */
  afterRestore: EmailCodeProbe;
  problems: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** askForEmailCode, with a failure on the way there (the login page, the password) reported as an outcome. */
async function probe(ctx: BenchContext, username: string, mails: () => number): Promise<EmailCodeProbe> {
  try {
    return await askForEmailCode(ctx, username, mails);
  } catch (err) {
    return { status: err instanceof ResponseError ? err.status : 0, outcome: 'other', mailsArrived: 0, error: (err as Error).message.slice(0, 300) };
  }
}

/** Cuts SMTP for `cutSeconds` while `load` runs; two sysadmins outside the load's rotation ask for email codes. */
export async function cutSmtp(
  deps: { ctx: BenchContext; proxy: FaultProxy; load: LoginLoad; mails: () => number; progress: (line: string) => void },
  options: { cutSeconds: number; probeUsers: [string, string] },
): Promise<SmtpCutResult> {
  const { ctx, proxy, load, mails, progress } = deps;
  const cutAt = performance.now();
  proxy.cut('reset');
  progress(`SMTP cut for ${options.cutSeconds} s: logins with the authenticator app go on; a sysadmin asks for a code by email`);
  const duringCut = await probe(ctx, options.probeUsers[0], mails);
  await sleep(Math.max(0, cutAt + options.cutSeconds * 1000 - performance.now()));
  const restoredAt = performance.now();
  proxy.restore();
  const afterRestore = await probe(ctx, options.probeUsers[1], mails);
  const during = load.attempts.filter((a) => a.end >= cutAt && a.end < restoredAt);
  const failures = countFailures(during);
  const failedDuringCut = failures.unavailable + failures.other;

  const problems: string[] = [];
  if (failedDuringCut) problems.push(`SMTP cut: ${failedDuringCut} of ${during.length} logins with the authenticator app failed (${failures.otherSamples[0] ?? '503'})`);
  if (duringCut.status !== 503 || duringCut.outcome !== 'could-not-send') problems.push(`SMTP cut: asking for an email code answered ${duringCut.status} (${duringCut.outcome}), not 503 with "could not send"${duringCut.error ? `: ${duringCut.error}` : ''}`);
  if (duringCut.mailsArrived) problems.push('SMTP cut: a mail arrived while SMTP was cut, so the cut did not reach Twofold');
  if (afterRestore.outcome !== 'sent' || afterRestore.mailsArrived < 1) problems.push(`SMTP restored: asking for an email code answered ${afterRestore.status} (${afterRestore.outcome}) and ${afterRestore.mailsArrived} mails arrived${afterRestore.error ? `: ${afterRestore.error}` : ''}`);
  progress(
    `SMTP cut ${options.cutSeconds} s: ${during.length} logins ended during it, ${failedDuringCut} failed; ` +
      `email code during the cut: ${duringCut.status} (${duringCut.outcome}); after the restore: ${afterRestore.status} (${afterRestore.outcome}, ${afterRestore.mailsArrived} mail)`,
  );
  return { cutSeconds: options.cutSeconds, loginsDuringCut: during.length, failedDuringCut, duringCut, afterRestore, problems };
}
