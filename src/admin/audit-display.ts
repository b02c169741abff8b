// How audit events are shown to people: control characters made visible, details as compact JSON, short user agents.
import type { AuditRow } from './audit-rows.js';

// C0 and C1 controls, DEL and the Unicode line and paragraph separators: CR/LF and ANSI escapes (ESC, CSI) among them.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const SHORT_USER_AGENT = 48;

/**
 * Writes every control character as a \u escape (\u001b and so on). Why: usernames, headers and details are chosen by whoever sent the
 * request; a raw CR/LF or ANSI escape could forge lines or recolour a terminal when an export is read (ASVS 16.4.1).
 */
export function showControls(text: string): string {
  return text.replace(CONTROL, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The details of an event as one line of compact JSON, with no control character left raw. */
export function detailsText(details: Record<string, unknown>): string {
  return showControls(JSON.stringify(details ?? {}));
}

export interface DisplayRow {
  id: number;
  time: string;
  event: string;
  account: { href: string; label: string } | undefined;
  actor: string | undefined;
  ip: string;
  userAgent: { short: string; full: string } | undefined;
  client: string;
  details: string;
}

/** A user agent made printable, whole and cut to `max` characters (with an ellipsis) for a table cell. */
export function printableUserAgent(userAgent: string | null, max = SHORT_USER_AGENT): { short: string; full: string } | undefined {
  if (userAgent === null) return undefined;
  const full = showControls(userAgent);
  const chars = Array.from(full);
  return { full, short: chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : full };
}

/** One row of the audit table, every text made printable (pug escapes the HTML on top of that). */
export function displayRow(row: AuditRow): DisplayRow {
  return {
    id: row.id,
    time: row.occurredAt,
    event: showControls(row.event),
    account: row.accountId === null ? undefined : { href: `/admin/accounts/${encodeURIComponent(row.accountId)}`, label: showControls(row.username ?? row.accountId) },
    actor: row.actorId === null ? undefined : showControls(row.actorUsername ?? row.actorId),
    ip: showControls(row.ip ?? ''),
    userAgent: printableUserAgent(row.userAgent),
    client: showControls(row.clientId ?? ''),
    details: Object.keys(row.details ?? {}).length ? detailsText(row.details) : '',
  };
}
