// A surge of wrong passwords across all addresses (credential stuffing): told to the log and the audit log.
import type { Logger } from '../../logger.js';
import type { AuditLog } from '../../security/audit.js';
import { PASSWORD_SURGE } from '../../security/attempt-limits.js';

/**
 * Records the start of a surge, with the address whose failure started it, so an administrator sees it in the
 * console's audit log and an operator in the log. Not awaited by the login: a failure to record it is logged.
 */
export function reportPasswordSurge(audit: AuditLog, logger: Logger, surge: { failures: number; windowSeconds: number; ip: string }): void {
  const details = { failures: surge.failures, windowSeconds: surge.windowSeconds, strictIpAllowance: PASSWORD_SURGE.ip.allowed };
  logger.warn(details, `${surge.failures} wrong passwords in ${surge.windowSeconds / 60} minutes across all addresses: `
    + `each address is held to ${PASSWORD_SURGE.ip.allowed} failures in 15 minutes for the next ${PASSWORD_SURGE.holdSeconds / 60} minutes`);
  audit.record('password.surge', { ip: surge.ip, userAgent: undefined, clientId: undefined }, null, details)
    .catch((err: unknown) => logger.error({ err }, 'recording password.surge failed'));
}
