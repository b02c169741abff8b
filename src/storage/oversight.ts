// Queries for the admin console's oversight: searching accounts and the sysadmins' two-factor state.
import type { Knex } from 'knex';
import type { AccountRow, Role } from './accounts.js';

/** One row of the admin console's account list. */
export interface AccountSummary {
  id: string;
  username: string;
  name: string;
  email: string;
  role: Role;
  disabled: boolean;
  /** Whether an authenticator app is connected now. */
  hasTotp: boolean;
  createdAt: Date;
}

export interface AccountSearch {
  /** Part of the username, name or email address, in any letter case; empty lists everyone. */
  query: string;
  /** Cursor: only accounts whose username sorts after this one (the last username of the previous page). */
  after?: string | undefined;
  limit: number;
}

/** A sysadmin's two-factor state, for the compliance view. */
export interface SysadminTwoFactor {
  id: string;
  username: string;
  name: string;
  disabled: boolean;
  mfaPostponementsUsed: number;
  mfaConnectedBefore: boolean;
  emailVerifiedAt: Date | null;
  /** When the current authenticator app was connected; null when none is. */
  totpConnectedAt: Date | null;
  totpLastUsedAt: Date | null;
  /** The newest login with a back-up code sent by email (audit event mfa.email.accepted). */
  lastEmailCodeAt: Date | null;
}


/** Creates the oversight queries on `knex`. */
export function createOversightQueries(knex: Knex) {
  /** Accounts whose username, name or email contains `query` (case-insensitive), by username, `limit` at most; `next` is the cursor of the following page. */
  async function search(input: AccountSearch): Promise<{ accounts: AccountSummary[]; next: string | undefined }> {
    if (!Number.isInteger(input.limit) || input.limit < 1 || input.limit > 500) throw new RangeError(`not a page size: ${input.limit}`);
    const rows = (await knex<AccountRow>('accounts')
      .select('id', 'username', 'name', 'email', 'role', 'disabled', 'created_at')
      .select(knex.raw('exists (select 1 from account_totp t where t.account_id = accounts.id) as has_totp'))
      // strpos, not LIKE: the text people type is matched literally, so % and _ need no escaping.
      .modify((q) => {
        if (input.query) {
          q.where((w) =>
            w.whereRaw('strpos(lower(username), lower(?)) > 0', [input.query])
              .orWhereRaw('strpos(lower(name), lower(?)) > 0', [input.query])
              .orWhereRaw('strpos(lower(email), lower(?)) > 0', [input.query]),
          );
        }
        // Keyset paging on the unique lower(username): pages stay stable while accounts are added.
        if (input.after) q.whereRaw('lower(username) > lower(?)', [input.after]);
      })
      .orderByRaw('lower(username)')
      .limit(input.limit + 1)) as (Pick<AccountRow, 'id' | 'username' | 'name' | 'email' | 'role' | 'disabled' | 'created_at'> & { has_totp: boolean })[];
    const page = rows.slice(0, input.limit).map((row) => ({
      id: row.id,
      username: row.username,
      name: row.name,
      email: row.email,
      role: row.role,
      disabled: row.disabled,
      hasTotp: row.has_totp,
      createdAt: row.created_at,
    }));
    return { accounts: page, next: rows.length > input.limit ? page[page.length - 1]?.username : undefined };
  }

  /** Every sysadmin with their second factor, postponements and back-up email, in one query, by username. */
  async function sysadminTwoFactor(): Promise<SysadminTwoFactor[]> {
    const rows = (await knex('accounts as a')
      .leftJoin('account_totp as t', 't.account_id', 'a.id')
      .where('a.role', 'sysadmin')
      .select('a.id', 'a.username', 'a.name', 'a.disabled', 'a.mfa_postponements_used', 'a.mfa_connected_before', 'a.email_verified_at')
      .select('t.connected_at', 't.last_used_at')
      // Served by the (account_id, occurred_at) index: one short index scan per sysadmin, inside this one statement.
      .select(knex.raw("(select max(e.occurred_at) from audit_events e where e.account_id = a.id and e.event = 'mfa.email.accepted') as last_email_code_at"))
      .orderByRaw('lower(a.username)')) as (Pick<AccountRow, 'id' | 'username' | 'name' | 'disabled' | 'mfa_postponements_used' | 'mfa_connected_before' | 'email_verified_at'> & {
      connected_at: Date | null;
      last_used_at: Date | null;
      last_email_code_at: Date | null;
    })[];
    return rows.map((row) => ({
      id: row.id,
      username: row.username,
      name: row.name,
      disabled: row.disabled,
      mfaPostponementsUsed: row.mfa_postponements_used,
      mfaConnectedBefore: row.mfa_connected_before,
      emailVerifiedAt: row.email_verified_at,
      totpConnectedAt: row.connected_at,
      totpLastUsedAt: row.last_used_at,
      lastEmailCodeAt: row.last_email_code_at,
    }));
  }

  return { search, sysadminTwoFactor };
}

export type OversightQueries = ReturnType<typeof createOversightQueries>;
