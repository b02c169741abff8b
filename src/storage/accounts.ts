// Queries on the accounts table.
import type { Knex } from 'knex';

export type Role = 'user' | 'sysadmin';

export interface Account {
  id: string;
  username: string;
  name: string;
  email: string;
  role: Role;
  passwordHash: string;
  disabled: boolean;
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

interface AccountRow {
  id: string;
  username: string;
  name: string;
  email: string;
  role: Role;
  password_hash: string;
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UNIQUE_VIOLATION = '23505';
const USERNAME_INDEX = 'accounts_username_lower_unique';

/** Creates the account queries on `knex`. */
export function createAccountQueries(knex: Knex) {
  const accounts = () => knex<AccountRow>('accounts');

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

  async function update(username: string, changes: Partial<AccountRow>): Promise<Account | undefined> {
    const [row] = await accounts()
      .whereRaw('lower(username) = lower(?)', [username])
      .update({ ...changes, updated_at: knex.fn.now() as unknown as Date })
      .returning('*');
    return row && toAccount(row as AccountRow);
  }

  return { create, findById, findByUsername, list, setRole, setDisabled };
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
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
