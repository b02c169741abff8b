// Queries on the account_totp table: one TOTP secret per account, encrypted at rest, with an atomic replay guard.
import type { Knex } from 'knex';
import { MAX_PREPARED_ROWS, preparedStatement } from './prepared-statement.js';
import { auditEventBindings, auditInsertWhen, type NewAuditEvent } from './audit-events.js';
import type { Cipher } from '../security/encryption.js';
import { createAccountChanges, type AccountChanges } from './account-changes.js';

/** A secret to check codes with, and the stored form it was opened from. */
export interface TotpSecret {
  /** The shared secret, decrypted (as given to connect, e.g. base32). */
  secret: string;
  /** The secret as the row stores it, encrypted: acceptStep can require that it is still the stored one. */
  sealed: string;
}

export interface TotpCredential extends TotpSecret {
  /** The last accepted RFC 6238 time step. */
  lastStep: number;
  connectedAt: Date;
  lastUsedAt: Date | null;
}

interface TotpRow {
  account_id: string;
  secret_encrypted: string;
  last_step: string | number | bigint; // bigint: a string from pg, a BigInt or number from PGlite
  connected_at: Date;
  last_used_at: Date | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Creates the TOTP queries on `knex`, sealing secrets with `cipher`. */
export function createTotpQueries(knex: Knex, cipher: Cipher, changes: AccountChanges = createAccountChanges()) {
  const totp = () => knex<TotpRow>('account_totp');
  // The account id is the encryption context, so a ciphertext copied into another account's row does not
  // decrypt: someone able to write the table cannot give a victim a secret they know.
  const context = (accountId: string) => `totp:${accountId}`;
  // Every login with the app makes one of these: prepared.
  const ACCEPT_ANY = 'update account_totp set last_step = ?, last_used_at = now() where account_id = ? and last_step < ?';
  const ACCEPT_SEALED = `${ACCEPT_ANY} and secret_encrypted = ?`;
  const acceptAnyStep = preparedStatement(knex, 'twofold_totp_accept_step', ACCEPT_ANY);
  const acceptSealedStep = preparedStatement(knex, 'twofold_totp_accept_sealed_step', ACCEPT_SEALED);
  // The same with the login's audit events: one statement and one commit instead of two, and never the one without the other.
  const acceptAndRecord = Array.from({ length: MAX_PREPARED_ROWS }, (_, index) => ({
    any: preparedStatement(knex, `twofold_totp_accept_step_audit_${index + 1}`, auditInsertWhen(`${ACCEPT_ANY} returning 1`, index + 1)),
    sealed: preparedStatement(knex, `twofold_totp_accept_sealed_step_audit_${index + 1}`, auditInsertWhen(`${ACCEPT_SEALED} returning 1`, index + 1)),
  }));

  /** The account's TOTP credential with its secret decrypted; undefined when none is connected. */
  async function find(accountId: string): Promise<TotpCredential | undefined> {
    if (!UUID.test(accountId)) return undefined;
    const row = await totp().where({ account_id: accountId }).first();
    if (!row) return undefined;
    return {
      ...open(row.account_id, row.secret_encrypted),
      lastStep: Number(row.last_step),
      connectedAt: row.connected_at,
      lastUsedAt: row.last_used_at,
    };
  }

  /** Opens a secret read with the account (accounts.findForLogin); throws when it is not that account's. */
  function open(accountId: string, sealed: string): TotpSecret {
    return { secret: cipher.decrypt(sealed, context(accountId)), sealed };
  }

  /** Whether the account has an authenticator connected, without reading or decrypting its secret. */
  async function exists(accountId: string): Promise<boolean> {
    if (!UUID.test(accountId)) return false;
    return (await totp().where({ account_id: accountId }).first(knex.raw('1 as present'))) !== undefined;
  }

  /** Connects (or replaces) the account's TOTP secret, confirmed by a code of `acceptedStep`, and marks the account as having had a second factor. */
  async function connect(accountId: string, secret: string, acceptedStep: number): Promise<void> {
    checkStep(acceptedStep);
    await knex.transaction(async (trx) => {
      // First the account row: it must exist, and its row lock orders this against a concurrent usePostponement.
      const updated = await trx('accounts').where({ id: accountId }).update({ mfa_connected_before: true });
      if (updated === 0) throw new Error(`no account ${accountId}`);
      const row = {
        account_id: accountId,
        secret_encrypted: cipher.encrypt(secret, context(accountId)),
        // The step that confirmed the setup counts as used: that code can never sign in afterwards.
        last_step: acceptedStep,
        connected_at: trx.fn.now(),
        last_used_at: trx.fn.now(),
      };
      await trx('account_totp').insert(row).onConflict('account_id').merge();
    });
    changes.announce(accountId);
  }

  /**
   * Records `step` as used if it is later than the last accepted one; false when it is not (a replayed or older
   * code). With `sealed`, only while that is still the stored secret: a code checked against a secret read earlier
   * is never accepted after the authenticator was replaced or removed meanwhile. `audit` events (at most
   * MAX_PREPARED_ROWS) are appended in the same statement, exactly when the step is accepted.
   */
  async function acceptStep(accountId: string, step: number, sealed?: string, audit: readonly NewAuditEvent[] = []): Promise<boolean> {
    checkStep(step);
    if (audit.length > MAX_PREPARED_ROWS) throw new RangeError(`at most ${MAX_PREPARED_ROWS} audit events go with an accepted step, got ${audit.length}`);
    if (!UUID.test(accountId)) return false;
    // Why atomic: the check and the write are one statement, so two parallel submissions of one code
    // cannot both pass (RFC 6238 §5.2: a verifier must not accept the second attempt of a valid OTP).
    const bindings = sealed === undefined ? [step, accountId, step] : [step, accountId, step, sealed];
    if (audit.length > 0) {
      // The events are inserted exactly when the step is accepted: rowCount counts them.
      const statements = acceptAndRecord[audit.length - 1]!;
      const { rowCount } = await (sealed === undefined ? statements.any : statements.sealed)([...bindings, ...auditEventBindings(audit)]);
      return (rowCount ?? 0) > 0;
    }
    const { rowCount } = sealed === undefined ? await acceptAnyStep(bindings) : await acceptSealedStep(bindings);
    return (rowCount ?? 0) > 0;
  }

  /** Removes the account's TOTP secret; false when there was none. */
  async function disconnect(accountId: string): Promise<boolean> {
    if (!UUID.test(accountId)) return false;
    const removed = (await totp().where({ account_id: accountId }).delete()) > 0;
    if (removed) changes.announce(accountId);
    return removed;
  }

  return { find, open, exists, connect, acceptStep, disconnect };
}

export type TotpQueries = ReturnType<typeof createTotpQueries>;

function checkStep(step: number): void {
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`not a TOTP time step: ${step}`);
}
