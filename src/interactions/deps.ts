// What the login journey's steps need, passed in by createApp.
import type Provider from 'oidc-provider';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { AttemptLimit } from '../security/attempt-limits.js';
import type { AuditLog } from '../security/audit.js';
import type { Clock } from '../security/totp.js';
import type { Queries } from '../storage/queries.js';
import type { AccountCache } from '../oidc/account-cache.js';
import type { LoginStateStore } from './login-state.js';
import type { Mailer } from '../mail/mailer.js';
import type { OneTimeCodes } from '../security/one-time-code.js';
import type { SendTimer } from './email-code/send-email-code.js';
import type { ShortLivedStore } from '../storage/short-lived/short-lived-store.js';

export interface InteractionDeps {
  provider: Provider;
  logger: Logger;
  config: Pick<Config, 'totpIssuer' | 'issuer'>;
  /** The issuer URL, for links in emails. */
  issuer: string;
  queries: Queries;
  /** The account cache that ID tokens and userinfo read (cleared on every change, on every node). */
  accounts: Pick<AccountCache, 'find' | 'mark' | 'offer'>;
  limits: {
    password: { account: AttemptLimit; ip: AttemptLimit };
    /** Wrong second-factor codes (app or email) per account, across logins. */
    secondFactor: AttemptLimit;
    emailSendAccount: AttemptLimit;
    emailSendAccountHourly: AttemptLimit;
    emailSendIp: AttemptLimit;
  };
  loginState: LoginStateStore;
  /** Short-lived state (email codes) in Redis or in-process. */
  store: ShortLivedStore;
  mailer: Mailer;
  /** How long a code's email takes to send, so that not sending one takes as long. */
  sendTimer: SendTimer;
  codes: OneTimeCodes;
  audit: AuditLog;
  /** The server's clock; replaced only in tests. */
  clock: Clock;
  secureCookies: boolean;
}
