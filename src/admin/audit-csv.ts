// The audit log as CSV: RFC 4180 quoting, and no cell a spreadsheet would run as a formula.
import { detailsText, showControls } from './audit-display.js';
import type { AuditRow } from './audit-rows.js';

export const AUDIT_CSV_COLUMNS = ['id', 'occurred_at', 'event', 'account_id', 'username', 'actor_id', 'actor_username', 'ip', 'user_agent', 'client_id', 'details'] as const;

// Spreadsheets read a cell starting with one of these as a formula (or, for tab and CR, strip them and then do).
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One CSV cell. Why the quote prefix: an attacker-chosen value like =HYPERLINK(...) in a username, user agent or
 * detail would otherwise run when an administrator opens the export (OWASP CSV injection). Then RFC 4180:
 * a cell with a comma, quote or line break is quoted, and quotes inside are doubled.
 */
export function csvCell(value: string | number | null | undefined): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV record, ended by CRLF as RFC 4180 asks. */
export function csvLine(cells: readonly (string | number | null | undefined)[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** The header and one record per event; text columns have their control characters written as \u escapes (\u001b and so on). */
export function auditCsv(rows: readonly AuditRow[]): string {
  const text = (value: string | null) => (value === null ? null : showControls(value));
  let out = csvLine(AUDIT_CSV_COLUMNS);
  for (const row of rows) {
    out += csvLine([
      row.id,
      row.occurredAt,
      text(row.event),
      row.accountId,
      text(row.username),
      row.actorId,
      text(row.actorUsername),
      text(row.ip),
      text(row.userAgent),
      text(row.clientId),
      detailsText(row.details),
    ]);
  }
  return out;
}
