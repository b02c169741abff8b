// Hands a rendered email to the SMTP server of SMTP_URL, with every wait bounded.
import nodemailer, { type NodemailerError } from 'nodemailer';
import type { RenderedMail } from './templates.js';

/** What happened to one delivery; the error details are for the log and never reach the caller of send(). */
export type DeliveryResult =
  | { status: 'SENT' }
  | { status: 'FAILED'; reason: 'UNAVAILABLE' | 'REJECTED'; errorCode: string; responseCode?: number };

export interface Delivery {
  deliver(mail: RenderedMail & { to: string; from: string }): Promise<DeliveryResult>;
  close(): Promise<void>;
}

/** Creates the SMTP delivery; each phase waits at most `timeoutMs`, and a whole message at most twice that. */
export function createSmtpDelivery(options: { smtpUrl: string; timeoutMs: number }): Delivery {
  const { timeoutMs } = options;
  const transport = nodemailer.createTransport({
    url: options.smtpUrl,
    // One connection per message, no pool: a few emails an hour gain nothing from one, and a connection that
    // broke during an outage can never be handed to the next message.
    pool: false,
    // A person waits on a page while the back-up code is sent: a down server must fail fast, not after minutes.
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    // Nodemailer's own logging would print the message, whose body holds one-time codes.
    logger: false,
    debug: false,
    // Our messages never attach files or fetch URLs; refuse both so no message can be made to.
    disableFileAccess: true,
    disableUrlAccess: true,
  });

  return {
    async deliver(mail) {
      try {
        // The idle socketTimeout alone would let a server that answers byte by byte hold us for ever.
        await transport.sendMail({ ...mail, signal: AbortSignal.timeout(2 * timeoutMs) });
        return { status: 'SENT' };
      } catch (err) {
        const error = err as NodemailerError;
        // Only the server's permanent answer to this message (a 5xx to MAIL, RCPT or DATA) is a rejection; a
        // 4xx, a timeout, a lost connection or a failed login may go through later.
        const rejected = error.permanent === true && (error.code === 'EENVELOPE' || error.code === 'EMESSAGE');
        return {
          status: 'FAILED',
          reason: rejected ? 'REJECTED' : 'UNAVAILABLE',
          errorCode: error.code ?? 'UNKNOWN',
          ...(error.responseCode === undefined ? {} : { responseCode: error.responseCode }),
        };
      }
    },
    async close() {
      transport.close();
    },
  };
}
