// Queries on the audit_events table: security events are appended and listed, never changed (the table refuses it).
import type { Knex } from 'knex';
import { MAX_PREPARED_ROWS, preparedStatement } from './prepared-statement.js';

export interface NewAuditEvent {
  event: string;
  accountId?: string | null | undefined;
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
  clientId?: string | null | undefined;
  /** The account that did it, when someone acted on another account (an administrator). */
  actorId?: string | null | undefined;
  details?: Record<string, unknown> | undefined;
}

export interface AuditEvent {
  id: number;
  occurredAt: Date;
  accountId: string | null;
  event: string;
  ip: string | null;
  userAgent: string | null;
  clientId: string | null;
  actorId: string | null;
  details: Record<string, unknown>;
}

export interface AuditEventFilter {
  accountId?: string | undefined;
  event?: string | undefined;
  /** Only these events (with `event`, both must hold). */
  events?: readonly string[] | undefined;
  /** Events at or after this moment. */
  from?: Date | undefined;
  /** Events before this moment (exclusive). */
  to?: Date | undefined;
  /** Page size, 1 to MAX_AUDIT_PAGE. */
  limit: number;
  /** Cursor: only events listed after the event with this id (the last id of the previous page). */
  before?: number | undefined;
}

interface AuditEventRow {
  id: string | number | bigint; // bigint: a string from pg
  occurred_at: Date;
  account_id: string | null;
  event: string;
  ip: string | null;
  user_agent: string | null;
  client_id: string | null;
  actor_id: string | null;
  details: Record<string, unknown>;
}

/** The columns an insert gives; the rest (id, occurred_at) are the database's. */
const AUDIT_INSERT_COLUMNS = ['event', 'account_id', 'ip', 'user_agent', 'client_id', 'actor_id', 'details'] as const satisfies readonly (keyof AuditEventRow)[];

// The inserted columns whose type is not text.
const NOT_TEXT = { account_id: 'uuid', actor_id: 'uuid', details: 'jsonb' } as const satisfies Partial<Record<(typeof AUDIT_INSERT_COLUMNS)[number], string>>;

type AuditInsertRow = Pick<AuditEventRow, (typeof AUDIT_INSERT_COLUMNS)[number]>;

function toAuditRow(one: NewAuditEvent): AuditInsertRow {
  return {
    event: one.event,
    account_id: one.accountId ?? null,
    ip: truncate(one.ip, MAX_IP),
    user_agent: truncate(one.userAgent, MAX_USER_AGENT),
    client_id: one.clientId ?? null,
    actor_id: one.actorId ?? null,
    details: JSON.stringify(one.details ?? {}) as unknown as Record<string, unknown>,
  };
}

function auditBindings(row: AuditInsertRow): (string | null)[] {
  return AUDIT_INSERT_COLUMNS.map((column) => row[column] as string | null);
}

/**
 * An insert of `count` audit events that happens only when the statement `condition` (a data-modifying query with
 * RETURNING, run first as a CTE) returned a row: both in one statement, so one commits exactly when the other
 * does. Bindings: the condition's, then auditEventBindings(events).
 */
export function auditInsertWhen(condition: string, count: number): string {
  const columns = AUDIT_INSERT_COLUMNS.join(', ');
  const values = Array.from({ length: count }, () => `(${AUDIT_INSERT_COLUMNS.map(() => '?').join(', ')})`).join(', ');
  // VALUES gives its untyped parameters the type text: the columns of other types are cast back.
  const selected = AUDIT_INSERT_COLUMNS.map((column) => {
    const type: string | undefined = NOT_TEXT[column as keyof typeof NOT_TEXT];
    return type ? `${column}::${type}` : column;
  }).join(', ');
  return `with done as (${condition}) insert into audit_events (${columns}) `
    + `select ${selected} from (values ${values}) as event_row (${columns}) where exists (select from done)`;
}

/** The bindings auditInsertWhen takes for `events`, after the condition's own. */
export function auditEventBindings(events: readonly NewAuditEvent[]): (string | null)[] {
  return events.map(toAuditRow).flatMap(auditBindings);
}

export const MAX_AUDIT_PAGE = 500;
// Request headers are attacker-chosen: bound what one event can store.
const MAX_USER_AGENT = 512;
const MAX_IP = 64;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Creates the audit event queries on `knex`. */
export function createAuditEventQueries(knex: Knex) {
  const events = () => knex<AuditEventRow>('audit_events');
  // Every login appends one or two events, most requests that change something one: inserts of up to
  // MAX_PREPARED_ROWS rows are prepared, one statement per row count.
  const insertRows = Array.from({ length: MAX_PREPARED_ROWS }, (_, index) => {
    const row = `(${AUDIT_INSERT_COLUMNS.map(() => '?').join(', ')})`;
    return preparedStatement(
      knex,
      `twofold_audit_insert_${index + 1}`,
      `insert into audit_events (${AUDIT_INSERT_COLUMNS.join(', ')}) values ${Array.from({ length: index + 1 }, () => row).join(', ')}`,
    );
  });

  /** Appends one event; the time is the database's. */
  async function record(input: NewAuditEvent | readonly NewAuditEvent[]): Promise<void> {
    // Several events of one request go in as one statement: all or none of them, in one round trip.
    const rows = (Array.isArray(input) ? input : [input]).map(toAuditRow);
    if (rows.length === 0) return;
    if (rows.length > MAX_PREPARED_ROWS) {
      await events().insert(rows);
      return;
    }
    await insertRows[rows.length - 1]!(rows.flatMap(auditBindings));
  }

  /** Events matching `filter`, newest first, at most `filter.limit`; page on with `before` = the last id returned. */
  async function list(filter: AuditEventFilter): Promise<AuditEvent[]> {
    if (!Number.isInteger(filter.limit) || filter.limit < 1 || filter.limit > MAX_AUDIT_PAGE) {
      throw new RangeError(`limit must be an integer from 1 to ${MAX_AUDIT_PAGE}, got ${filter.limit}`);
    }
    if (filter.before !== undefined && !Number.isSafeInteger(filter.before)) throw new RangeError(`not an event id: ${filter.before}`);
    if (filter.accountId !== undefined && !UUID.test(filter.accountId)) return [];
    const query = events().select('*');
    if (filter.accountId !== undefined) query.where({ account_id: filter.accountId });
    if (filter.event !== undefined) query.where({ event: filter.event });
    if (filter.events !== undefined) query.whereIn('event', filter.events);
    if (filter.from !== undefined) query.where('occurred_at', '>=', filter.from);
    if (filter.to !== undefined) query.where('occurred_at', '<', filter.to);
    // Ordered by time, ties by id. The cursor compares on that same (occurred_at, id) order: ids alone can be
    // out of time order, as occurred_at is taken when each inserting transaction started.
    if (filter.before !== undefined) {
      query.whereRaw('(occurred_at, id) < (select occurred_at, id from ?? where id = ?)', ['audit_events', filter.before]);
    }
    const rows = await query.orderBy([{ column: 'occurred_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(filter.limit);
    return rows.map(toAuditEvent);
  }

  return { record, list };
}

export type AuditEventQueries = ReturnType<typeof createAuditEventQueries>;

function truncate(value: string | null | undefined, max: number): string | null {
  if (value === undefined || value === null) return null;
  const chars = Array.from(value); // by code point, never splitting a surrogate pair
  return chars.length > max ? chars.slice(0, max).join('') : value;
}

function toAuditEvent(row: AuditEventRow): AuditEvent {
  return {
    id: Number(row.id),
    occurredAt: row.occurred_at,
    accountId: row.account_id,
    event: row.event,
    ip: row.ip,
    userAgent: row.user_agent,
    clientId: row.client_id,
    actorId: row.actor_id ?? null,
    details: row.details,
  };
}
