// createMailer: renders a template and sends it by SMTP, or without SMTP_URL writes it to the development outbox.
import type { Logger } from '../logger.js';
import type { Templates } from '../templates.js';
import { writeOutboxMessage } from './outbox.js';
import { createSmtpDelivery } from './smtp-delivery.js';
import { createMailRenderer, type MailLocals, type MailTemplate } from './templates.js';

export type { MailLocals, MailTemplate };

/** An expected failure is returned: UNAVAILABLE may work later, REJECTED (the server refused it) will not. */
export type SendResult = { status: 'SENT' } | { status: 'FAILED'; reason: 'UNAVAILABLE' | 'REJECTED' };

export interface MailMessage<T extends MailTemplate = MailTemplate> {
  to: string;
  template: T;
  locals: MailLocals[T];
}

export interface Mailer {
  /** 'outbox' in development without SMTP_URL: nothing leaves the machine. */
  kind: 'smtp' | 'outbox';
  send<T extends MailTemplate>(message: MailMessage<T>): Promise<SendResult>;
  close(): Promise<void>;
}

export interface MailerOptions {
  /** smtp:// or smtps:// URL; without it, messages go to `${dataDir}/outbox/`. */
  smtpUrl?: string | undefined;
  mailFrom: string;
  /** The public URL of Twofold, named in every email's footer. */
  issuer: string;
  dataDir: string;
  logger: Logger;
  /** The compiled views; the mail templates are those under mail/. */
  templates: Templates;
  /** How long each SMTP phase (connect, greeting, each reply) may take; a whole message at most twice that. */
  timeoutMs?: number;
}

export const DEFAULT_MAIL_TIMEOUT_MS = 10_000;

// One plain address and nothing else: nodemailer would read "a@x, b@y" as two recipients, and a one-time code
// must reach exactly the account's own address.
const SINGLE_ADDRESS = /^[^\s@,;:<>()[\]"\\]+@([^\s@,;:<>()[\]"\\]+)$/;

/** Creates the mailer; every template is looked up now, so a missing one stops the start, not a login. */
export function createMailer(options: MailerOptions): Mailer {
  const { logger, mailFrom, issuer, dataDir } = options;
  const renderer = createMailRenderer(options.templates);
  const smtp = options.smtpUrl ? createSmtpDelivery({ smtpUrl: options.smtpUrl, timeoutMs: options.timeoutMs ?? DEFAULT_MAIL_TIMEOUT_MS }) : undefined;

  // Log lines name the template and the recipient's domain only: the subject and body are never logged, as
  // bodies hold one-time codes, and a full address is personal data the log does not need.
  return {
    kind: smtp ? 'smtp' : 'outbox',
    async send({ to, template, locals }) {
      const recipientDomain = SINGLE_ADDRESS.exec(to)?.[1]?.toLowerCase();
      if (!recipientDomain) {
        logger.warn({ template }, 'mail not sent: the recipient is not one email address');
        return { status: 'FAILED', reason: 'REJECTED' };
      }
      const mail = { ...renderer.render(template, locals, issuer), to, from: mailFrom };

      if (!smtp) {
        try {
          const { file } = await writeOutboxMessage(dataDir, mail);
          // Development only: the subject never holds a code (see views/mail/*/subject.pug); the body stays in the file.
          logger.info({ template, file, subject: mail.subject }, 'mail written to the development outbox (no SMTP_URL)');
          return { status: 'SENT' };
        } catch (err) {
          logger.error({ template, errorCode: (err as NodeJS.ErrnoException).code ?? 'UNKNOWN' }, 'mail not written to the development outbox');
          return { status: 'FAILED', reason: 'UNAVAILABLE' };
        }
      }

      const result = await smtp.deliver(mail);
      if (result.status === 'SENT') {
        logger.info({ template, recipientDomain }, 'mail sent');
        return result;
      }
      // The error's message is not logged either: it may quote the server's reply, which can echo the message.
      const { reason, errorCode, responseCode } = result;
      logger.warn({ template, recipientDomain, reason, errorCode, responseCode }, 'mail not sent');
      return { status: 'FAILED', reason };
    },
    async close() {
      await smtp?.close();
    },
  };
}
