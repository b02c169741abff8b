// Security events: written to the append-only audit_events table and to the log, never with secrets in them.
import type { Context } from 'koa';
import type { Logger } from '../logger.js';
import type { Queries } from '../storage/queries.js';
import type { NewAuditEvent } from '../storage/audit-events.js';

/** Every security event Twofold records. */
export const AUDIT_EVENTS = [
  'login.succeeded',
  'password.failed',
  'password.locked',
  // Wrong passwords across all addresses passed the surge threshold: per-address limits are stricter for a while.
  'password.surge',
  'mfa.totp.accepted',
  'mfa.totp.rejected',
  'mfa.totp.locked',
  'mfa.email.sent',
  'mfa.email.send_failed',
  // "Problems with the code" on an account with no verified email: the page says the same as after a send.
  'mfa.email.not_sent',
  'mfa.email.accepted',
  'mfa.email.rejected',
  'mfa.email.locked',
  'mfa.connected',
  'mfa.postponed',
  'mfa.disconnected',
  'mfa.reset',
  'account.email_changed',
  // Changed on Your settings, with the other sessions and grants that ended.
  'account.password_changed',
  // The person logged out of their other sessions from Your settings, with how many sessions and grants ended.
  'account.sessions_ended',
  'account.created',
  'account.disabled',
  'account.enabled',
  'account.role_changed',
  'admin.refused',
  'client.created',
  'client.updated',
  'client.deleted',
  'client.secret_rotated',
  'client.registered',
  // Failed authorisations of clients (ASVS 16.3.2), recorded from oidc-provider's events in create-provider.ts.
  'client.auth_failed',
  'registration.refused',
  'initial_access_token.issued',
  'initial_access_token.revoked',
  // New signing keys added (with their sign-from time) and keys no longer published removed: twofold keys rotate.
  'signing_keys.rotated',
] as const;
export type AuditEventName = (typeof AUDIT_EVENTS)[number];

/** Where a request came from: address, browser and the client it is signing in to. */
export interface RequestOrigin {
  ip: string;
  userAgent: string | undefined;
  clientId: string | undefined;
}

/** One event for AuditLog.recordAll. */
export interface AuditEntry {
  event: AuditEventName;
  origin: RequestOrigin;
  accountId: string | null;
  details?: Record<string, unknown>;
  actorId?: string;
}

export interface AuditLog {
  /** Records an event about `accountId`; `actorId` names the administrator when someone else acted. */
  record(event: AuditEventName, origin: RequestOrigin, accountId: string | null, details?: Record<string, unknown>, actorId?: string): Promise<void>;
  /** Records several events of one request together (one write: all of them or none). */
  recordAll(entries: readonly AuditEntry[]): Promise<void>;
  /**
   * Records events as part of another write: `write` inserts the rows in its own statement and says whether it
   * happened (e.g. TotpQueries.acceptStep); the events are logged and counted only then. Returns what `write` did.
   */
  recordWith(entries: readonly AuditEntry[], write: (rows: readonly NewAuditEvent[]) => Promise<boolean>): Promise<boolean>;
}

/** The origin of what an operator does with the twofold CLI: no address, the CLI as the program. */
export const CLI_ORIGIN: RequestOrigin = Object.freeze({ ip: 'cli', userAgent: 'twofold CLI', clientId: undefined });

/** Reads the request's origin for the audit log. */
export function requestOrigin(ctx: Context, clientId?: unknown): RequestOrigin {
  return { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, clientId: typeof clientId === 'string' ? clientId : undefined };
}

// Told of every event recorded in this process (the server's metrics); unset in the CLI, which then loads no metrics.
let auditObserver: ((event: AuditEventName) => void) | undefined;

/** Sets the function told of every event recorded by any audit log of this process. */
export function observeAuditEvents(observer: (event: AuditEventName) => void): void {
  auditObserver = observer;
}

/** Creates the audit log; a failed write fails the request, so no security event goes unrecorded. */
export function createAuditLog(queries: Pick<Queries, 'auditEvents'>, logger: Logger): AuditLog {
  const toRows = (entries: readonly AuditEntry[]): NewAuditEvent[] => entries.map(({ event, origin, accountId, details = {}, actorId }) => (
    { event, accountId, ip: origin.ip, userAgent: origin.userAgent ?? null, clientId: origin.clientId ?? null, actorId: actorId ?? null, details }
  ));
  const announce = (entries: readonly AuditEntry[]): void => {
    for (const { event, origin, accountId, details = {}, actorId } of entries) {
      logger.info({ audit: event, accountId, actorId, ip: origin.ip, clientId: origin.clientId, ...details }, event);
      auditObserver?.(event);
    }
  };
  async function recordAll(entries: readonly AuditEntry[]): Promise<void> {
    await queries.auditEvents.record(toRows(entries));
    announce(entries);
  }
  return {
    record: (event, origin, accountId, details, actorId) => recordAll([{ event, origin, accountId, ...(details ? { details } : {}), ...(actorId ? { actorId } : {}) }]),
    recordAll,
    async recordWith(entries, write) {
      const done = await write(toRows(entries));
      if (done) announce(entries);
      return done;
    },
  };
}
