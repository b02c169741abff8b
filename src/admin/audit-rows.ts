// Audit events with the usernames of their account and actor: one page for the table, or many pages for an export.
import type { AuditEvent, AuditEventFilter, Queries } from '../storage/queries.js';
import { MAX_AUDIT_PAGE } from '../storage/audit-events.js';

/** An audit event as the console shows and exports it. */
export interface AuditRow {
  id: number;
  /** ISO 8601, UTC. */
  occurredAt: string;
  event: string;
  accountId: string | null;
  username: string | null;
  actorId: string | null;
  actorUsername: string | null;
  ip: string | null;
  userAgent: string | null;
  clientId: string | null;
  details: Record<string, unknown>;
}

/** The most events one export holds. */
export const MAX_EXPORT_ROWS = 10_000;

type AuditQueries = Pick<Queries, 'auditEvents' | 'accounts'>;
export type AuditSelection = Omit<AuditEventFilter, 'limit'>;

/** One page of events, newest first, with usernames (one account query for the page). */
export async function loadAuditRows(queries: AuditQueries, filter: AuditEventFilter): Promise<AuditRow[]> {
  return withUsernames(queries, await queries.auditEvents.list(filter));
}

/** Up to `max` events, read MAX_AUDIT_PAGE at a time; `truncated` when more match the filter. */
export async function exportAuditRows(queries: AuditQueries, selection: AuditSelection, max = MAX_EXPORT_ROWS): Promise<{ rows: AuditRow[]; truncated: boolean }> {
  const rows: AuditRow[] = [];
  let before = selection.before;
  for (;;) {
    // One more than is wanted, so the last page tells whether anything was left out.
    const limit = Math.min(MAX_AUDIT_PAGE, max + 1 - rows.length);
    const events = await queries.auditEvents.list({ ...selection, before, limit });
    const kept = events.slice(0, max - rows.length);
    rows.push(...(await withUsernames(queries, kept)));
    if (events.length > kept.length) return { rows, truncated: true };
    if (events.length < limit) return { rows, truncated: false };
    before = events[events.length - 1]!.id;
  }
}

async function withUsernames(queries: AuditQueries, events: AuditEvent[]): Promise<AuditRow[]> {
  const ids = events.flatMap((e) => [e.accountId, e.actorId]).filter((id): id is string => id !== null);
  const usernames = new Map((await queries.accounts.findManyByIds(ids)).map((account) => [account.id, account.username]));
  const name = (id: string | null) => (id === null ? null : (usernames.get(id) ?? null));
  return events.map((e) => ({
    id: e.id,
    occurredAt: e.occurredAt.toISOString(),
    event: e.event,
    accountId: e.accountId,
    username: name(e.accountId),
    actorId: e.actorId,
    actorUsername: name(e.actorId),
    ip: e.ip,
    userAgent: e.userAgent,
    clientId: e.clientId,
    details: e.details ?? {},
  }));
}
