// Gathers every query module, so the app receives one object with all its SQL.
import type { Knex } from 'knex';
import type { ClientSecretHasher } from '../security/client-secrets.js';
import type { Cipher } from '../security/encryption.js';
import { createAccountChanges } from './account-changes.js';
import { createAccountQueries } from './accounts.js';
import { createAuditEventQueries } from './audit-events.js';
import { createClientQueries } from './clients.js';
import { createInitialAccessTokenQueries } from './initial-access-tokens.js';
import { createProviderKeyQueries } from './provider-keys.js';
import { createSigningKeyQueries } from './signing-keys.js';
import { createTotpQueries } from './totp.js';
import { createOversightQueries } from './oversight.js';

export type { Account, ProfileChanges, Role, UsePostponementResult } from './accounts.js';
export type { AuditEvent, AuditEventFilter, NewAuditEvent } from './audit-events.js';
export type { Client, ClientSummary } from './clients.js';
export type { InitialAccessTokenRecord, InitialAccessTokenStatus, IssuedVia } from './initial-access-tokens.js';
export type { NewSigningKey, SigningKey } from './signing-keys.js';
export type { TotpCredential } from './totp.js';
export type { AccountSearch, AccountSummary, SysadminTwoFactor } from './oversight.js';

export type Queries = ReturnType<typeof createQueries>;

/** Creates all query modules on one knex instance, with the cipher for secrets kept encrypted and the hasher for client secrets. */
export function createQueries(knex: Knex, cipher: Cipher, clientSecrets: ClientSecretHasher) {
  // Changes to accounts and their second factor, announced to this process's caches once stored.
  const accountChanges = createAccountChanges();
  return {
    accountChanges,
    accounts: createAccountQueries(knex, accountChanges),
    clients: createClientQueries(knex, clientSecrets, cipher),
    initialAccessTokens: createInitialAccessTokenQueries(knex),
    providerKeys: createProviderKeyQueries(knex, cipher),
    signingKeys: createSigningKeyQueries(knex, cipher),
    totp: createTotpQueries(knex, cipher, accountChanges),
    auditEvents: createAuditEventQueries(knex),
    oversight: createOversightQueries(knex),
  };
}
