// Queries on the accounts table.
import type { Knex } from 'knex';
import { createAccountChanges, type AccountChanges } from './account-changes.js';
import { preparedStatement } from './prepared-statement.js';

export type Role = 'user' | 'sysadmin';

export interface Account {
  id: string;
  username: string;
  name: string;
  email: string;
  role: Role;
  passwordHash: string;
  disabled: boolean;
  /** How many times the account has put off setting up a second factor. */
  mfaPostponementsUsed: number;
  /** Whether the account has ever connected a second factor (postponing is then no longer offered). */
  mfaConnectedBefore: boolean;
  /** When the current email address was verified; null when it has not been (or has changed since). */
  emailVerifiedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewAccount {
  username: string;
  name: string;
  email: string;
  role: Role;
  passwordHash: string;
}

export type CreateAccountResult = { status: 'CREATED'; account: Account } | { status: 'USERNAME_TAKEN' };

export type UsePostponementResult = { status: 'POSTPONED'; left: number } | { status: 'EXHAUSTED' };

export interface ProfileChanges {
  name?: string | undefined;
  email?: string | undefined;
}

type AccountWithTotpRow = AccountRow & { has_totp: boolean };

/** A row of the accounts table (snake_case, as stored). */
export interface AccountRow {
  id: string;
  username: string;
  name: string;
  email: string;
  role: Role;
  password_hash: string;
  disabled: boolean;
  mfa_postponements_used: number;
  mfa_connected_before: boolean;
  email_verified_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** Every column of AccountRow, named: a prepared statement must not select `*`. */
const ACCOUNT_COLUMNS = [
  'id', 'username', 'name', 'email', 'role', 'password_hash', 'disabled', 'mfa_postponements_used', 'mfa_connected_before',
  'email_verified_at', 'created_at', 'updated_at',
] as const satisfies readonly (keyof AccountRow)[];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UNIQUE_VIOLATION = '23505';
const USERNAME_INDEX = 'accounts_username_lower_unique';

/** Creates the account queries on `knex`; every stored change is announced to `changes`. */
export function createAccountQueries(knex: Knex, changes: AccountChanges = createAccountChanges()) {
  const accounts = () => knex<AccountRow>('accounts');
  const announced = (account: Account | undefined) => {
    if (account) changes.announce(account.id);
    return account;
  };
  // Every password step makes this read: prepared. The username index is on lower(username).
  const accountForLogin = preparedStatement<AccountRow & { totp_sealed: string | null }>(
    knex,
    'twofold_account_for_login',
    `select ${ACCOUNT_COLUMNS.map((c) => `a.${c}`).join(', ')},
       (select t.secret_encrypted from account_totp t where t.account_id = a.id) as totp_sealed
     from accounts a where lower(a.username) = lower(?) limit 1`,
  );
  // An account with whether it has an authenticator connected, read in the same statement.
  const withTotp = () => accounts().select('accounts.*', knex.raw('exists (select 1 from account_totp t where t.account_id = accounts.id) as has_totp'));

  /** Inserts an account; a username already taken (in any letter case) gives USERNAME_TAKEN. */
  async function create(input: NewAccount): Promise<CreateAccountResult> {
    try {
      const [row] = await accounts()
        .insert({
          username: input.username,
          name: input.name,
          email: input.email,
          role: input.role,
          password_hash: input.passwordHash,
        })
        .returning('*');
      return { status: 'CREATED', account: toAccount(row as AccountRow) };
    } catch (err) {
      // The unique index on lower(username) decides, atomically: no read-then-insert race between two sign-ups.
      const { code, constraint } = err as { code?: string; constraint?: string };
      if (code === UNIQUE_VIOLATION && constraint === USERNAME_INDEX) return { status: 'USERNAME_TAKEN' };
      throw err;
    }
  }

  /** The account with this id; undefined when there is none or `id` is not a uuid. */
  async function findById(id: string): Promise<Account | undefined> {
    if (!UUID.test(id)) return undefined;
    const row = await accounts().where({ id }).first();
    return row && toAccount(row);
  }

  /** The account with this username, compared case-insensitively. */
  async function findByUsername(username: string): Promise<Account | undefined> {
    const row = await accounts().whereRaw('lower(username) = lower(?)', [username]).first();
    return row && toAccount(row);
  }

  /**
   * The account with this username (case-insensitive) and its authenticator's secret as stored (encrypted), if one
   * is connected: what the password step and then the code step need, in one round trip.
   */
  async function findForLogin(username: string): Promise<{ account: Account; hasTotp: boolean; totpSealed?: string } | undefined> {
    // The authenticator's secret comes along, still encrypted, so the code step needs no read of its own.
    const [row] = (await accountForLogin([username])).rows;
    if (!row) return undefined;
    return { account: toAccount(row), hasTotp: row.totp_sealed !== null, ...(row.totp_sealed !== null ? { totpSealed: row.totp_sealed } : {}) };
  }

  /** The account with this id and whether it has an authenticator connected, in one round trip. */
  async function findWithTotp(id: string): Promise<{ account: Account; hasTotp: boolean } | undefined> {
    if (!UUID.test(id)) return undefined;
    const row = await withTotp().where({ id }).first() as AccountWithTotpRow | undefined;
    return row && { account: toAccount(row), hasTotp: row.has_totp };
  }

  /** The accounts with these ids, in one query (ids that are not uuids, or match no account, are left out). */
  async function findManyByIds(ids: readonly string[]): Promise<Account[]> {
    const valid = [...new Set(ids)].filter((id) => UUID.test(id));
    if (valid.length === 0) return [];
    const rows = await accounts().whereIn('id', valid);
    return rows.map(toAccount);
  }

  /** Every account, by username. */
  async function list(): Promise<Account[]> {
    const rows = await accounts().select('*').orderByRaw('lower(username)');
    return rows.map(toAccount);
  }

  /** Changes an account's role; returns the updated account, or undefined if there is no such username. */
  async function setRole(username: string, role: Role): Promise<Account | undefined> {
    return update(username, { role });
  }

  /** Disables or re-enables an account; returns the updated account, or undefined if there is no such username. */
  async function setDisabled(username: string, disabled: boolean): Promise<Account | undefined> {
    return update(username, { disabled });
  }

  /** Gives the account `role` if it has another one; the updated account, or undefined when nothing changed (or no such account). */
  async function changeRole(accountId: string, role: Role): Promise<Account | undefined> {
    return updateIfDifferent(accountId, 'role', role);
  }

  /** Disables or enables the account if it is not so already; the updated account, or undefined when nothing changed (or no such account). */
  async function changeDisabled(accountId: string, disabled: boolean): Promise<Account | undefined> {
    return updateIfDifferent(accountId, 'disabled', disabled);
  }

  // Compare and set in one statement: two administrators acting at once record one change, not two.
  async function updateIfDifferent<K extends 'role' | 'disabled'>(accountId: string, column: K, value: AccountRow[K]): Promise<Account | undefined> {
    if (!UUID.test(accountId)) return undefined;
    const [row] = await accounts()
      .where({ id: accountId })
      .whereNot(column, value)
      .update({ [column]: value, updated_at: knex.fn.now() as unknown as Date })
      .returning('*');
    return announced(row && toAccount(row as AccountRow));
  }

  /** Spends one of `max` postponements of the second-factor setup; EXHAUSTED when none is left or a factor is (or was) connected. */
  async function usePostponement(accountId: string, max: number): Promise<UsePostponementResult> {
    if (!Number.isSafeInteger(max) || max < 0) throw new RangeError(`not a postponement limit: ${max}`);
    if (!UUID.test(accountId)) return { status: 'EXHAUSTED' };
    // Why atomic: check and increment are one statement, and a concurrent update of the row re-checks the
    // condition on the new value, so parallel logins cannot gain extra postponements. connect() sets
    // mfa_connected_before on this same row, so a setup racing with a postponement is ordered too.
    const rows = (await accounts()
      .where({ id: accountId })
      .andWhere('mfa_postponements_used', '<', max)
      .andWhere('mfa_connected_before', false)
      .whereNotExists(knex('account_totp').select(knex.raw('1')).where({ account_id: accountId }))
      .increment('mfa_postponements_used', 1)
      .returning('mfa_postponements_used')) as unknown as Pick<AccountRow, 'mfa_postponements_used'>[];
    const used = rows[0]?.mfa_postponements_used;
    return used === undefined ? { status: 'EXHAUSTED' } : { status: 'POSTPONED', left: max - used };
  }

  /** Changes the account's name and/or email; a new email is no longer verified. Undefined if there is no such account. */
  async function updateProfile(accountId: string, changes: ProfileChanges): Promise<Account | undefined> {
    if (!UUID.test(accountId)) return undefined;
    const set: Record<string, unknown> = { updated_at: knex.fn.now() };
    if (changes.name !== undefined) set['name'] = changes.name;
    if (changes.email !== undefined) {
      set['email'] = changes.email;
      // Decided in the same statement from the row's current email: a verification can never carry over
      // to an address nobody proved they own.
      set['email_verified_at'] = knex.raw('case when email = ? then email_verified_at end', [changes.email]);
    }
    const [row] = await accounts().where({ id: accountId }).update(set).returning('*');
    return announced(row && toAccount(row as AccountRow));
  }

  /** Replaces the account's password hash; false if there is no such account. */
  async function setPasswordHash(accountId: string, passwordHash: string): Promise<boolean> {
    if (!UUID.test(accountId)) return false;
    const count = await accounts().where({ id: accountId }).update({ password_hash: passwordHash, updated_at: knex.fn.now() as unknown as Date });
    if (count > 0) changes.announce(accountId);
    return count > 0;
  }

  /** Marks `email` as verified, only if it is still the account's email (it may have changed since the code was sent); false otherwise. */
  async function markEmailVerified(accountId: string, email: string): Promise<boolean> {
    if (!UUID.test(accountId)) return false;
    const count = await accounts()
      .where({ id: accountId, email })
      .update({ email_verified_at: knex.fn.now() as unknown as Date, updated_at: knex.fn.now() as unknown as Date });
    if (count > 0) changes.announce(accountId);
    return count > 0;
  }

  async function update(username: string, changes: Partial<AccountRow>): Promise<Account | undefined> {
    const [row] = await accounts()
      .whereRaw('lower(username) = lower(?)', [username])
      .update({ ...changes, updated_at: knex.fn.now() as unknown as Date })
      .returning('*');
    return announced(row && toAccount(row as AccountRow));
  }

  return {
    create,
    findById,
    findByUsername,
    findForLogin,
    findWithTotp,
    findManyByIds,
    list,
    setRole,
    setDisabled,
    changeRole,
    changeDisabled,
    usePostponement,
    updateProfile,
    setPasswordHash,
    markEmailVerified,
  };
}

export type AccountQueries = ReturnType<typeof createAccountQueries>;

function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    username: row.username,
    name: row.name,
    email: row.email,
    role: row.role,
    passwordHash: row.password_hash,
    disabled: row.disabled,
    mfaPostponementsUsed: row.mfa_postponements_used,
    mfaConnectedBefore: row.mfa_connected_before,
    emailVerifiedAt: row.email_verified_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
