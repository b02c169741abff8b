// The emails Twofold sends: one folder per template in views/mail/ (subject.pug, html.pug, text.pug), compiled once.
import type { Templates } from '../templates.js';

/** The locals each template needs; `issuer` and `formatTime` are added by the renderer for every template. */
export interface MailLocals {
  /** The back-up code for logging in when the authenticator app is not at hand. */
  'email-code': { name: string; code: string; minutes: number };
  /** A back-up code by email was used to log in. */
  'backup-code-used': { name: string; when: Date; ip: string; userAgent: string };
  /** Confirms that an address belongs to the account; `link` is the full confirmation URL. */
  'verify-email': { name: string; link: string; hours: number };
  /** An authenticator app was connected. */
  'mfa-connected': { name: string; when: Date };
  /** The authenticator app was disconnected; `recovery` when that followed a login with an email code. */
  'mfa-disconnected': { name: string; when: Date; recovery: boolean };
  /** The account's address changed (sent to the old address, and the new one if the caller wishes). */
  'email-changed': { name: string; oldEmail: string; newEmail: string };
  /** An administrator removed the account's authenticator app; `reason` is theirs, shown to the person. */
  'mfa-reset': { name: string; reason: string; when: Date };
  /** Too many wrong second-factor codes: the second factor is locked for `wait` (e.g. "15 minutes"). */
  'second-factor-locked': { name: string; wait: string };
  /** Too many wrong passwords for the username: it is locked for `wait`. */
  'password-locked': { name: string; wait: string };
  /** The password was changed on Your settings (other sessions were logged out). */
  'password-changed': { name: string; when: Date; ip: string; userAgent: string };
  /** The right password after `failures` wrong ones in a row: perhaps a guess. */
  'password-after-failures': { name: string; failures: number; when: Date; ip: string; userAgent: string };
  /** The right password, then `failures` wrong second-factor codes in the same login: perhaps a stolen password. */
  'codes-after-password': { name: string; failures: number; when: Date; ip: string; userAgent: string };
}

export type MailTemplate =
  | 'email-code'
  | 'backup-code-used'
  | 'verify-email'
  | 'mfa-connected'
  | 'mfa-disconnected'
  | 'email-changed'
  | 'second-factor-locked'
  | 'password-locked'
  | 'password-after-failures'
  | 'codes-after-password'
  | 'password-changed'
  | 'mfa-reset';

// Written out so that a template missing from either MailTemplate or MailLocals fails to compile.
const TEMPLATES: { [T in MailTemplate]: keyof MailLocals extends MailTemplate ? T : never } = {
  'email-code': 'email-code',
  'backup-code-used': 'backup-code-used',
  'verify-email': 'verify-email',
  'mfa-connected': 'mfa-connected',
  'mfa-disconnected': 'mfa-disconnected',
  'email-changed': 'email-changed',
  'second-factor-locked': 'second-factor-locked',
  'password-locked': 'password-locked',
  'password-after-failures': 'password-after-failures',
  'codes-after-password': 'codes-after-password',
  'password-changed': 'password-changed',
  'mfa-reset': 'mfa-reset',
};

/** Every template, in the order of MailTemplate. */
export const MAIL_TEMPLATES: readonly MailTemplate[] = Object.values(TEMPLATES);

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

export interface MailRenderer {
  render<T extends MailTemplate>(template: T, locals: MailLocals[T], issuer: string): RenderedMail;
}

const TIME_FORMAT = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });

/** Formats a moment for an email, in UTC and saying so: the server cannot know the reader's time zone. */
export function formatMailTime(when: Date): string {
  return `${TIME_FORMAT.format(when)} UTC`;
}

/** Looks every template of views/mail/ up now, so a missing one fails at start, not at send. */
export function createMailRenderer(templates: Templates): MailRenderer {
  const compile = (template: MailTemplate, part: 'subject' | 'html' | 'text') => templates.get(`mail/${template}/${part}.pug`);
  const compiled = new Map(
    MAIL_TEMPLATES.map((template) => [template, { subject: compile(template, 'subject'), html: compile(template, 'html'), text: compile(template, 'text') }] as const),
  );

  return {
    render(template, locals, issuer) {
      const parts = compiled.get(template);
      if (!parts) throw new Error(`Unknown mail template ${String(template)}`);
      const all = { ...locals, issuer, formatTime: formatMailTime };
      return {
        // One line, always: a subject is a header, and a line break in a header would start a new one.
        subject: parts.subject(all).replace(/\s+/g, ' ').trim(),
        html: parts.html(all),
        text: `${parts.text(all).replace(/\r\n?/g, '\n').trim()}\n`,
      };
    },
  };
}
