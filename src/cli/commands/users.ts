// `twofold users ...`: add, list, change the role or password of, disable and enable accounts.
import type { Logger } from '../../logger.js';
import { CLI_ORIGIN, createAuditLog } from '../../security/audit.js';
import { checkNewPassword, hashPassword } from '../../security/passwords.js';
import type { Account, Role } from '../../storage/queries.js';
import { defineCommand, defineCommandGroup, OK, userError, withStorage, type CliStorage, type CommandResult } from '../command.js';
import { announceChange, endAccountSessions, reportEndedSessions } from '../server-redis.js';
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

const setPassword = defineCommand({
  name: 'users set-password',
  usage: 'Usage: twofold users set-password USERNAME [--password-stdin]\n\n'
    + '  Sets a new password for someone who forgot theirs (asked twice, or read from standard input with --password-stdin).\n'
    + '  With the server\'s Redis settings (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES, and REDIS_PREFIX), the\n'
    + '  account\'s sessions end and its grants are revoked with their tokens, as whoever used the old password is out too.',
  positionals: { min: 1, max: 1, names: 'USERNAME' },
  options: { 'password-stdin': { type: 'boolean', default: false } },
}, async ({ positionals: [username], values }, deps: UsersDeps) => {
  return withStorage(deps.openStorage, async ({ config, queries }) => {
    const account = await queries.accounts.findByUsername(username);
    if (!account) return unknownUser('users set-password', username);
    const reading = await deps.readPassword({ fromStdin: values['password-stdin'] });
    const problem = passwordProblem(reading, 'users set-password');
    if (problem) return problem;
    const password = (reading as { password: string }).password;
    const check = await checkNewPassword(password, { username: account.username });
    if (!check.ok) return userError(`twofold users set-password: ${check.message}`);
    if (!(await queries.accounts.setPasswordHash(account.id, await hashPassword(password)))) return unknownUser('users set-password', username);
    deps.output.out(`The password of ${account.username} is set.`);
    const ended = await endAccountSessions(config, account.id);
    await createAuditLog(queries, deps.getLogger()).record('account.password_changed', CLI_ORIGIN, account.id, ended.status === 'ENDED'
      ? { sessionsEnded: ended.sessions, grantsRevoked: ended.grants }
      : { sessionsKept: ended.status === 'NO_REDIS' ? 'no Redis settings' : 'Redis unreachable' });
    return reportEndedSessions(deps.output, account.username, ended, 'users set-password');
  });
});

/** `users disable` and `users enable`: the same but for their name, usage and what they set. */
function setDisabled(command: 'disable' | 'enable', usage: string) {
  return defineCommand({
    name: `users ${command}`,
    usage,
    positionals: { min: 1, max: 1, names: 'USERNAME' },
  }, async ({ positionals: [username] }, deps: UsersDeps) => {
    return withStorage(deps.openStorage, async ({ config, queries }) => {
      const account = await queries.accounts.setDisabled(username, command === 'disable');
      if (!account) return unknownUser(`users ${command}`, username);
      deps.output.out(`${account.username} is ${account.disabled ? 'disabled' : 'enabled'}.`);
      const audit = createAuditLog(queries, deps.getLogger());
      if (!account.disabled) {
        await audit.record('account.enabled', CLI_ORIGIN, account.id);
        await announceChange(config, deps.output, account.id, 'accounts');
        return OK;
      }
      // Why: the server refuses a disabled account at once, but its sessions and tokens must not come back if it is
      // enabled again. Run again on a disabled account, this ends what an earlier run could not.
      const ended = await endAccountSessions(config, account.id);
      await audit.record('account.disabled', CLI_ORIGIN, account.id, ended.status === 'ENDED'
        ? { sessionsEnded: ended.sessions, grantsRevoked: ended.grants }
        : { sessionsKept: ended.status === 'NO_REDIS' ? 'no Redis settings' : 'Redis unreachable' });
      return reportEndedSessions(deps.output, account.username, ended, 'users disable');
    });
  });
}

/** Runs `twofold users <command> ...`. */
export const runUsersCommand = defineCommandGroup({
  name: 'users',
  usage: USERS_HELP,
  commands: {
    add: addUser,
    list: listUsers,
    'set-role': setRole,
    'set-password': setPassword,
    disable: setDisabled('disable', 'Usage: twofold users disable USERNAME\n\n  The account can no longer sign in; twofold users enable USERNAME undoes it. With the server\'s Redis settings\n'
      + '  (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES, and REDIS_PREFIX), its sessions end and its grants are revoked\n'
      + '  with their tokens; without them, they stop working because the server refuses the account, and are kept.'),
    enable: setDisabled('enable', 'Usage: twofold users enable USERNAME\n\n  A disabled account can sign in again.'),
  },
});

function isRole(value: string | undefined): value is Role {
  return ROLES.includes(value as Role);
}

function taken(username: string): CommandResult {
  return userError(`twofold users add: a user named ${username} already exists (usernames ignore letter case)`);
}

function unknownUser(command: string, username: string): CommandResult {
  return userError(`twofold ${command}: there is no user named "${username}" (see: twofold users list)`);
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
