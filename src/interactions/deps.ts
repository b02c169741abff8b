// What the login journey's steps need, passed in by createApp.
import type Provider from 'oidc-provider';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { AttemptLimit } from '../security/attempt-limits.js';
import type { AuditLog } from '../security/audit.js';
import type { Clock } from '../security/totp.js';
import type { Queries } from '../storage/queries.js';
import type { LoginStateStore } from './login-state.js';

export interface InteractionDeps {
  provider: Provider;
  logger: Logger;
  config: Pick<Config, 'totpIssuer'>;
  queries: Queries;
  limits: {
    password: { account: AttemptLimit; ip: AttemptLimit };
    totp: AttemptLimit;
  };
  loginState: LoginStateStore;
  audit: AuditLog;
  /** The server's clock; replaced only in tests. */
  clock: Clock;
  secureCookies: boolean;
}
