// Creates an account from the admin console's form: every field checked, all problems reported at once.
import { normalizeEmail, normalizeName } from '../account/validate-profile.js';
import type { AuditLog, RequestOrigin } from '../security/audit.js';
import { checkNewPassword, hashPassword } from '../security/passwords.js';
import type { Account, Queries, Role } from '../storage/queries.js';

// ASCII only, as in the CLI: look-alike Unicode letters would let "аdmin" (Cyrillic а) pass for "admin".
export const USERNAME_PATTERN = /^[A-Za-z0-9._@-]{3,64}$/;
const ROLES: readonly Role[] = ['user', 'sysadmin'];

export type CreateAccountError = 'USERNAME_FORMAT' | 'USERNAME_TAKEN' | 'NAME' | 'EMAIL' | 'ROLE' | 'PASSWORD';

export type CreateAccountResult =
  | { status: 'CREATED'; account: Account }
  | { status: 'INVALID'; errors: Partial<Record<'username' | 'name' | 'email' | 'role' | 'password', CreateAccountError>>; passwordMessage?: string };

export interface AdminActor {
  accountId: string;
  origin: RequestOrigin;
}

/** Checks the form and creates the account with a hashed initial password; records account.created with the admin as actor. */
export async function createAccount(deps: { queries: Pick<Queries, 'accounts'>; audit: AuditLog }, form: Record<string, unknown>, actor: AdminActor): Promise<CreateAccountResult> {
  const username = typeof form['username'] === 'string' ? form['username'].trim() : '';
  const name = normalizeName(form['name']);
  const email = normalizeEmail(form['email']);
  const role = ROLES.find((r) => r === form['role']);
  const password = typeof form['password'] === 'string' ? form['password'] : '';
  const errors: Extract<CreateAccountResult, { status: 'INVALID' }>['errors'] = {};
  if (!USERNAME_PATTERN.test(username)) errors.username = 'USERNAME_FORMAT';
  if (!name) errors.name = 'NAME';
  if (!email) errors.email = 'EMAIL';
  if (!role) errors.role = 'ROLE';
  const check = await checkNewPassword(password, { username });
  if (!check.ok) errors.password = 'PASSWORD';
  // Looked up before hashing, so a taken name costs no argon2 work; create() still decides atomically.
  if (!errors.username && (await deps.queries.accounts.findByUsername(username))) errors.username = 'USERNAME_TAKEN';
  if (Object.keys(errors).length > 0 || !name || !email || !role) {
    return { status: 'INVALID', errors, ...(check.ok ? {} : { passwordMessage: check.message }) };
  }
  const result = await deps.queries.accounts.create({ username, name, email, role, passwordHash: await hashPassword(password) });
  if (result.status === 'USERNAME_TAKEN') return { status: 'INVALID', errors: { username: 'USERNAME_TAKEN' } };
  await deps.audit.record('account.created', actor.origin, result.account.id, { username, role }, actor.accountId);
  return result;
}
