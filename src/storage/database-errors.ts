// Recognises the errors that mean "the database cannot be reached right now", as opposed to a bad query.

/** Node socket error codes for a server that is down, unreachable or went away mid-conversation. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN',
  'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED',
]);

/** SQLSTATEs for a server shutting down or refusing sessions (class 08 is handled separately). */
const SQLSTATES = new Set([
  '57P01', // admin_shutdown: "terminating connection due to administrator command"
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: the server is starting up or shutting down
  '53300', // too_many_connections: the server is up but has no room for us right now
]);

/** Messages of errors that node-postgres and knex create themselves, without a code. Not anchored at the
 * start: knex prefixes a failed query's SQL ("select 1 - Connection terminated unexpectedly"). */
const MESSAGES = [
  /Connection terminated unexpectedly$/,
  /Connection terminated due to connection timeout$/,
  /(^|- )timeout expired$/, // pg connectionTimeoutMillis
  /Query read timeout$/, // pg query_timeout: the server stopped answering
  /Client has encountered a connection error and is not queryable$/,
  /^Knex: Timeout acquiring a connection/, // pool acquire timeout: nothing could connect in time
];

/** True when `err` (or any error it wraps) says Postgres is unreachable or went away, so the request may be retried later. */
export function isDatabaseUnavailable(err: unknown): boolean {
  return anyError(err, (e) => {
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code && NETWORK_CODES.has(code)) return true;
    if (code && (SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
    // A unix socket that is not there (the embedded server is not running) is the same as a refused connection.
    if (code === 'ENOENT' && e.syscall === 'connect') return true;
    return typeof e.message === 'string' && MESSAGES.some((pattern) => pattern.test(e.message as string));
  });
}

interface ErrorLike {
  code?: unknown;
  syscall?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** Walks the error, its `cause` chain and AggregateError members (Node's happy-eyeballs connect). */
function anyError(err: unknown, test: (e: ErrorLike) => boolean, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 8) return false;
  const e = err as ErrorLike;
  if (test(e)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => anyError(inner, test, depth + 1))) return true;
  return anyError(e.cause, test, depth + 1);
}
