// "Problems with the code" during the faults run: a sysadmin asks for a back-up code by email while SMTP is cut, and after.
import { randomBytes } from 'node:crypto';
import { Browser } from '../browser.js';
import { ResponseError } from '../response-error.js';
import { PASSWORD, REDIRECT_URI } from '../seed.js';
import type { BenchContext } from '../scenarios/context.js';

export interface EmailCodeProbe {
  /** The status of the answer to "send me a code by email". */
  status: number;
  /** 'sent' when the page asks for the emailed code; 'could-not-send' for the page that says so; else 'other'. */
  outcome: 'sent' | 'could-not-send' | 'other';
  /** Mails the SMTP sink accepted between the request and a few seconds after it. */
  mailsArrived: number;
  /** Why the sign-in failed before the request could be made, if it did. */
  error?: string;
}

const SEND_FAILED_TEXT = 'We could not send the email';
const MAIL_WAIT_MS = 3_000;

/** Signs `username` in with the password, then asks for a code by email; reports the answer and whether a mail arrived. */
export async function askForEmailCode(ctx: BenchContext, username: string, mails: () => number): Promise<EmailCodeProbe> {
  const browser = new Browser(ctx.requestTimeoutMs);
  const url = new URL(ctx.metadata.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: ctx.seeded.webClient.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    code_challenge: randomBytes(32).toString('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const login = await browser.follow(url.href);
  const codePage = await browser.submit(login, '/login', { username, password: PASSWORD });
  const before = mails();
  let status: number;
  let html: string;
  try {
    const page = await browser.submit(codePage, '/email-code', {});
    ({ status, html } = page);
  } catch (err) {
    if (!(err instanceof ResponseError)) throw err;
    status = err.status;
    html = err.body;
  }
  const outcome = html.includes(SEND_FAILED_TEXT) ? 'could-not-send' : status === 200 && html.includes('/email-code/verify') ? 'sent' : 'other';
  const deadline = Date.now() + MAIL_WAIT_MS;
  while (outcome === 'sent' && mails() === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  return { status, outcome, mailsArrived: mails() - before };
}
