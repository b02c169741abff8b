// Reads the audit log's filters from the query string: every problem is reported as a sentence, never thrown.
import { AUDIT_EVENTS, type AuditEventName } from '../security/audit.js';

export const DEFAULT_AUDIT_PAGE = 50;
export const MIN_AUDIT_PAGE = 10;
export const MAX_AUDIT_PAGE_SHOWN = 200;

/** The filters as typed (echoed back into the form), and what they mean once read. */
export interface AuditQuery {
  raw: { account: string; event: string; from: string; to: string };
  username: string | undefined;
  event: AuditEventName | undefined;
  from: Date | undefined;
  to: Date | undefined;
  before: number | undefined;
  size: number;
}

export type ParsedAuditQuery = { status: 'OK'; query: AuditQuery } | { status: 'INVALID'; raw: AuditQuery['raw']; problems: string[] };

const KNOWN = new Set(['account', 'event', 'from', 'to', 'before', 'size']);
// What a datetime-local input sends: minutes, optionally seconds and milliseconds; no zone (read as UTC).
const DATETIME_LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;
const POSITIVE_INTEGER = /^[1-9][0-9]{0,15}$/;
// Anything longer than this is not a username or a date; it is not echoed back either.
const MAX_VALUE = 200;

/** Parses the query string of /admin/audit and its exports; unknown or repeated parameters and bad values are problems. */
export function parseAuditQuery(query: Record<string, string | string[] | undefined>): ParsedAuditQuery {
  const problems: string[] = [];
  const single = (name: string): string => {
    const value = query[name];
    if (Array.isArray(value)) {
      problems.push(`The filter “${name}” was given more than once.`);
      return '';
    }
    if (value !== undefined && value.length > MAX_VALUE) {
      problems.push(`The filter “${name}” is too long.`);
      return '';
    }
    return (value ?? '').trim();
  };

  const unknown = Object.keys(query).filter((name) => !KNOWN.has(name));
  if (unknown.length) problems.push(`Unknown filter${unknown.length > 1 ? 's' : ''}: ${unknown.map((n) => `“${n.slice(0, 40)}”`).join(', ')}.`);

  const raw = { account: single('account'), event: single('event'), from: single('from'), to: single('to') };
  let event: AuditEventName | undefined;
  if (raw.event && raw.event !== 'any') {
    event = AUDIT_EVENTS.find((name) => name === raw.event);
    if (!event) problems.push('Choose an event from the list.');
  }
  const from = readDate(raw.from, 'From', problems);
  const to = readDate(raw.to, 'To', problems);
  if (from && to && from.getTime() >= to.getTime()) problems.push('“From” must be earlier than “To”.');

  const beforeText = single('before');
  let before: number | undefined;
  if (beforeText) {
    if (POSITIVE_INTEGER.test(beforeText) && Number.isSafeInteger(Number(beforeText))) before = Number(beforeText);
    else problems.push('The page link is not valid; start again from the newest events.');
  }
  const sizeText = single('size');
  let size = DEFAULT_AUDIT_PAGE;
  if (sizeText) {
    size = POSITIVE_INTEGER.test(sizeText) ? Number(sizeText) : NaN;
    if (!(size >= MIN_AUDIT_PAGE && size <= MAX_AUDIT_PAGE_SHOWN)) problems.push(`The page size must be a whole number from ${MIN_AUDIT_PAGE} to ${MAX_AUDIT_PAGE_SHOWN}.`);
  }

  if (problems.length) return { status: 'INVALID', raw, problems };
  return { status: 'OK', query: { raw, username: raw.account || undefined, event, from, to, before, size } };
}

/** The query string that repeats the filters (not the cursor), plus `extra`; for links to older pages and exports. */
export function filterQueryString(query: AuditQuery, extra: Record<string, string | number> = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query.raw)) if (value && !(name === 'event' && value === 'any')) params.set(name, value);
  if (query.size !== DEFAULT_AUDIT_PAGE) params.set('size', String(query.size));
  for (const [name, value] of Object.entries(extra)) params.set(name, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

// A datetime-local value read as UTC; an impossible date (31 April, 25:00) is a problem, not a rollover.
function readDate(text: string, label: string, problems: string[]): Date | undefined {
  if (!text) return undefined;
  const match = DATETIME_LOCAL.exec(text);
  if (match) {
    const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
    const ms = Number((match[7] ?? '0').padEnd(3, '0'));
    const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
    const exact = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && date.getUTCHours() === hour && date.getUTCMinutes() === minute && date.getUTCSeconds() === second;
    if (exact && year >= 1970) return date;
  }
  problems.push(`“${label}” is not a valid date and time; use the form YYYY-MM-DDTHH:MM (UTC).`);
  return undefined;
}
