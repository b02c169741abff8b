// `twofold users ...`: add and list accounts and change their role; who can sign in (set-password, disable, enable)
// is in user-access.ts.
import type { Logger } from '../../logger.js';
import { CLI_ORIGIN, createAuditLog } from '../../security/audit.js';
import { checkNewPassword, hashPassword } from '../../security/passwords.js';
import type { Account, Role } from '../../storage/queries.js';
import { defineCommand, defineCommandGroup, OK, userError, withStorage, type CliStorage, type CommandResult } from '../command.js';
import { announceChange } from '../server-redis.js';
import { disableUser, enableUser, setPassword, unknownUser } from './user-access.js';
import { formatDate, formatTable, printJson, type Output } from '../output.js';
import { passwordProblem, type PasswordReading } from '../read-password.js';

export interface UsersDeps {
  output: Output;
  getLogger(): Logger;
  openStorage(): Promise<CliStorage>;
  readPassword(options: { fromStdin: boolean }): Promise<PasswordReading>;
}

const ROLES: readonly Role[] = ['user', 'sysadmin'];
// ASCII only: look-alike Unicode letters would let "аdmin" (Cyrillic а) pass for "admin".
const USERNAME = /^[A-Za-z0-9._@-]{3,64}$/;
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

export const USERS_HELP = `Usage: twofold users <command>

Commands:
  add --username U --email E [--name N] [--role user|sysadmin] [--password-stdin] [--json]
                             create an account; the password is asked twice (or read from stdin)
  list [--json]              list every account
  set-role USERNAME ROLE     make an account a user or a sysadmin
  set-password USERNAME [--password-stdin]
                             set a new password for someone who forgot theirs, and end their sessions
  disable USERNAME           stop an account from signing in and end its sessions
  enable USERNAME            let a disabled account sign in again

Run twofold users <command> --help for details.`;

const ADD_HELP = `Usage: twofold users add --username U --email E [--name N] [--role user|sysadmin] [--password-stdin] [--json]

  --username U       3-64 characters: letters, digits and . _ - @ (unique, whatever the letter case)
  --email E          the account's email address
  --name N           the display name (default: the username)
  --role R           user (default) or sysadmin
  --password-stdin   read the password from standard input instead of asking at the terminal,
                     e.g. printf '%s' "$PASSWORD" | twofold users add ... --password-stdin
  --json             print the created account as JSON`;

const addUser = defineCommand({
  name: 'users add',
  usage: ADD_HELP,
  options: {
    username: { type: 'string' },
    email: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string', default: 'user' },
    'password-stdin': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
}, async ({ values }, deps: UsersDeps) => {
  const username = values.username?.trim() ?? '';
  const email = values.email?.trim() ?? '';
  const name = values.name?.trim() || username;
  if (!values.username) return userError('twofold users add: give the username with --username', 'users add');
  if (!USERNAME.test(username)) {
    return userError(`twofold users add: the username "${username}" must be 3-64 characters of letters, digits and . _ - @`, 'users add');
  }
  if (!values.email) return userError('twofold users add: give the email address with --email', 'users add');
  if (email.length > 254 || !EMAIL.test(email)) {
    return userError(`twofold users add: "${email}" is not an email address (expected e.g. alice@example.com)`, 'users add');
  }
  if (name.length > 100) return userError('twofold users add: the name must have at most 100 characters', 'users add');
  if (!isRole(values.role)) return userError(`twofold users add: the role must be user or sysadmin, not "${values.role}"`, 'users add');
  const role = values.role;

  return withStorage(deps.openStorage, async ({ queries }) => {
    // Checked before asking for the password so nobody types one twice for nothing; create() decides atomically.
    if (await queries.accounts.findByUsername(username)) return taken(username);
    const reading = await deps.readPassword({ fromStdin: values['password-stdin'] });
    const problem = passwordProblem(reading, 'users add');
    if (problem) return problem;
    const password = (reading as { password: string }).password;
    const check = await checkNewPassword(password, { username });
    if (!check.ok) return userError(`twofold users add: ${check.message}`);
    const result = await queries.accounts.create({ username, name, email, role, passwordHash: await hashPassword(password) });
    if (result.status === 'USERNAME_TAKEN') return taken(username);
    const { account } = result;
    await createAuditLog(queries, deps.getLogger()).record('account.created', CLI_ORIGIN, account.id, { username: account.username, role });
    if (values.json) printJson(deps.output, toJson(account));
    else deps.output.out(`Created ${account.role} ${account.username} (id ${account.id}).`);
    return OK;
  });
});

const listUsers = defineCommand({
  name: 'users list',
  usage: 'Usage: twofold users list [--json]\n\n  Lists every account (never password hashes).\n  --json   print a JSON array',
  options: { json: { type: 'boolean', default: false } },
}, async ({ values }, deps: UsersDeps) => {
  const accounts = await withStorage(deps.openStorage, ({ queries }) => queries.accounts.list());
  if (values.json) printJson(deps.output, accounts.map(toJson));
  else if (accounts.length === 0) deps.output.err('No accounts yet; create one with: twofold users add --username U --email E');
  else {
    deps.output.out(formatTable(
      ['USERNAME', 'NAME', 'EMAIL', 'ROLE', 'DISABLED', 'CREATED'],
      accounts.map((a) => [a.username, a.name, a.email, a.role, a.disabled ? 'yes' : 'no', formatDate(a.createdAt)]),
    ));
  }
  return OK;
});

const setRole = defineCommand({
  name: 'users set-role',
  usage: 'Usage: twofold users set-role USERNAME ROLE\n\n  ROLE is user or sysadmin.',
  positionals: { min: 2, max: 2, names: 'USERNAME ROLE' },
}, async ({ positionals: [username, role] }, deps: UsersDeps) => {
  if (!isRole(role)) return userError(`twofold users set-role: the role must be user or sysadmin, not "${role}"`, 'users set-role');
  return withStorage(deps.openStorage, async ({ config, queries }) => {
    const before = await queries.accounts.findByUsername(username);
    const changed = before && before.role !== role ? await queries.accounts.setRole(username, role) : before;
    if (!changed) return unknownUser('users set-role', username);
    deps.output.out(`${changed.username} is now ${changed.role}.`);
    if (before && before.role !== changed.role) {
      await createAuditLog(queries, deps.getLogger()).record('account.role_changed', CLI_ORIGIN, changed.id, { from: before.role, to: changed.role });
      await announceChange(config, deps.output, changed.id, 'accounts');
    }
    return OK;
  });
});

/** Runs `twofold users <command> ...`. */
export const runUsersCommand = defineCommandGroup({
  name: 'users',
  usage: USERS_HELP,
  commands: {
    add: addUser,
    list: listUsers,
    'set-role': setRole,
    'set-password': setPassword,
    disable: disableUser,
    enable: enableUser,
  },
});

function isRole(value: string | undefined): value is Role {
  return ROLES.includes(value as Role);
}

function taken(username: string): CommandResult {
  return userError(`twofold users add: a user named ${username} already exists (usernames ignore letter case)`);
}

// Never the password hash: list output ends up in terminals, scripts and tickets.
function toJson(account: Account) {
  return {
    id: account.id,
    username: account.username,
    name: account.name,
    email: account.email,
    role: account.role,
    disabled: account.disabled,
    createdAt: account.createdAt.toISOString(),
    updatedAt: account.updatedAt.toISOString(),
  };
}
