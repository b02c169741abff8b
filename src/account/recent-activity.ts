// Recent activity: the account's own sign-ins and security changes from the audit log, in words, so that its owner
// can spot what was not them (ASVS 6.3.5: users are told of suspicious authentication attempts).
import { printableUserAgent, showControls } from '../admin/audit-display.js';
import type { AuditEventName } from '../security/audit.js';
import type { Queries } from '../storage/queries.js';
import { REAUTH_VIA } from './signed-in-account.js';

/** How far back the page looks, and how many entries it shows at most. */
export const ACTIVITY_DAYS = 30;
export const ACTIVITY_LIMIT = 50;

type Details = Record<string, unknown>;

function loginWords(details: Details): string {
  const amr = Array.isArray(details['amr']) ? details['amr'] : [];
  if (amr.includes('otp')) return 'Logged in with your password and authenticator app';
  if (amr.includes('email')) return 'Logged in with your password and a back-up code by email';
  return 'Logged in with your password only';
}

// The events a person can read about their own account, in words; undefined leaves one out (an accepted code at a
// login: the login's own line says it). Client and administrator events stay in the console's audit log.
const WORDS: Partial<Record<AuditEventName, (details: Details) => string | undefined>> = {
  'login.succeeded': loginWords,
  'password.failed': () => 'Wrong password',
  'password.locked': () => 'Logging in was locked after wrong passwords',
  'mfa.totp.rejected': (d) => (d['reason'] === 'replay' ? 'A code from your authenticator app was used a second time' : 'Wrong code from your authenticator app'),
  'mfa.totp.locked': () => 'Two-factor authentication was locked after wrong codes',
  'mfa.email.sent': () => 'A back-up code was sent by email',
  'mfa.email.not_sent': () => 'A back-up code was asked for, but none was sent: there is no verified email address',
  'mfa.email.send_failed': () => 'A back-up code could not be sent',
  'mfa.totp.accepted': (d) => (d['via'] === REAUTH_VIA ? 'Confirmed it was you with your authenticator app' : undefined),
  'mfa.email.accepted': (d) => (d['via'] === REAUTH_VIA ? 'Confirmed it was you with a back-up code by email' : undefined),
  'mfa.email.rejected': () => 'Wrong back-up code',
  'mfa.email.locked': () => 'Two-factor authentication was locked after wrong back-up codes',
  'mfa.connected': (d) => (d['switched'] ? 'Switched to a new phone' : 'Authenticator app connected'),
  'mfa.postponed': () => 'Two-factor setup postponed',
  'mfa.disconnected': () => 'Authenticator app disconnected',
  'mfa.reset': () => 'Your authenticator app was removed by an administrator',
  'account.email_changed': () => 'Email address changed',
  'account.password_changed': () => 'Password changed',
  'account.sessions_ended': () => 'Logged out of your other sessions',
  'account.enabled': () => 'Your account was enabled by an administrator',
};

// Said by the line itself ("Confirmed it was you ..."), so not marked again as on Confirm it's you.
const SAYS_VIA = new Set<string>(['mfa.totp.accepted', 'mfa.email.accepted']);
const READABLE = Object.keys(WORDS);

export interface ActivityEntry {
  time: Date;
  what: string;
  ip: string;
  userAgent: { short: string; full: string } | undefined;
}

/** The account's readable events of the last ACTIVITY_DAYS, newest first, at most ACTIVITY_LIMIT. */
export async function recentActivity(queries: Pick<Queries, 'auditEvents'>, accountId: string, now: Date): Promise<ActivityEntry[]> {
  const from = new Date(now.getTime() - ACTIVITY_DAYS * 86_400_000);
  // Twice the page: of the readable events, only the codes accepted at a login are left out, at most one per login
  // (whose own line is always kept), so a full page is always there.
  const events = await queries.auditEvents.list({ accountId, from, events: READABLE, limit: ACTIVITY_LIMIT * 2 });
  const entries: ActivityEntry[] = [];
  for (const event of events) {
    const what = WORDS[event.event as AuditEventName]?.(event.details);
    if (what === undefined) continue;
    const via = event.details['via'] === REAUTH_VIA && !SAYS_VIA.has(event.event) ? ' (on Confirm it\'s you)' : '';
    // Headers are chosen by whoever sent the request: control characters are shown, never passed on raw.
    entries.push({ time: event.occurredAt, what: `${what}${via}`, ip: showControls(event.ip ?? ''), userAgent: printableUserAgent(event.userAgent) });
    if (entries.length === ACTIVITY_LIMIT) break;
  }
  return entries;
}
