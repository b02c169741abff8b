// `twofold users ...`: add, list, change the role of, disable and enable accounts.
import { checkNewPassword, hashPassword } from '../../security/passwords.js';
import type { Account, Role } from '../../storage/queries.js';
import { OK, parseCommandArgs, userError, withStorage, type CliStorage, type CommandResult } from '../command.js';
import { formatDate, formatTable, printJson, type Output } from '../output.js';
import type { PasswordReading } from '../read-password.js';

export interface UsersDeps {
  output: Output;
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
  disable USERNAME           stop an account from signing in
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

/** Runs `twofold users <command> ...`. */
export async function runUsersCommand(args: string[], deps: UsersDeps): Promise<CommandResult> {
  const [command, ...rest] = args;
  switch (command) {
    case 'add':
      return addUser(rest, deps);
    case 'list':
      return listUsers(rest, deps);
    case 'set-role':
      return setRole(rest, deps);
    case 'disable':
    case 'enable':
      return setDisabled(command, rest, deps);
    case '--help':
    case '-h':
    case 'help':
      deps.output.out(USERS_HELP);
      return OK;
    case undefined:
      return userError('twofold users: give a command: add, list, set-role, disable or enable', 'users');
    default:
      return userError(`twofold users: unknown command "${command}"; use add, list, set-role, disable or enable`, 'users');
  }
}

async function addUser(args: string[], deps: UsersDeps): Promise<CommandResult> {
  const parsed = parseCommandArgs('users add', {
    args,
    strict: true,
    allowPositionals: true,
    options: {
      username: { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string', default: 'user' },
      'password-stdin': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }, { min: 0, max: 0, names: '' });
  if (parsed.status === 'ERROR') return parsed.result;
  const { values } = parsed;
  if (values.help) {
    deps.output.out(ADD_HELP);
    return OK;
  }
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
    const problem = passwordProblem(reading);
    if (problem) return problem;
    const password = (reading as { password: string }).password;
    const check = checkNewPassword(password, { username });
    if (!check.ok) return userError(`twofold users add: ${check.message}`);
    const result = await queries.accounts.create({ username, name, email, role, passwordHash: await hashPassword(password) });
    if (result.status === 'USERNAME_TAKEN') return taken(username);
    const { account } = result;
    if (values.json) printJson(deps.output, toJson(account));
    else deps.output.out(`Created ${account.role} ${account.username} (id ${account.id}).`);
    return OK;
  });
}

async function listUsers(args: string[], deps: UsersDeps): Promise<CommandResult> {
  const parsed = parseCommandArgs('users list', {
    args,
    strict: true,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  }, { min: 0, max: 0, names: '' });
  if (parsed.status === 'ERROR') return parsed.result;
  if (parsed.values.help) {
    deps.output.out('Usage: twofold users list [--json]\n\n  Lists every account (never password hashes).\n  --json   print a JSON array');
    return OK;
  }
  const accounts = await withStorage(deps.openStorage, ({ queries }) => queries.accounts.list());
  if (parsed.values.json) printJson(deps.output, accounts.map(toJson));
  else if (accounts.length === 0) deps.output.err('No accounts yet; create one with: twofold users add --username U --email E');
  else {
    deps.output.out(formatTable(
      ['USERNAME', 'NAME', 'EMAIL', 'ROLE', 'DISABLED', 'CREATED'],
      accounts.map((a) => [a.username, a.name, a.email, a.role, a.disabled ? 'yes' : 'no', formatDate(a.createdAt)]),
    ));
  }
  return OK;
}

async function setRole(args: string[], deps: UsersDeps): Promise<CommandResult> {
  const parsed = parseCommandArgs('users set-role', {
    args,
    strict: true,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h', default: false } },
  }, { min: 2, max: 2, names: 'USERNAME ROLE' });
  if (parsed.status === 'ERROR') return parsed.result;
  if (parsed.values.help) {
    deps.output.out('Usage: twofold users set-role USERNAME ROLE\n\n  ROLE is user or sysadmin.');
    return OK;
  }
  const [username = '', role = ''] = parsed.positionals;
  if (!isRole(role)) return userError(`twofold users set-role: the role must be user or sysadmin, not "${role}"`, 'users set-role');
  const account = await withStorage(deps.openStorage, ({ queries }) => queries.accounts.setRole(username, role));
  if (!account) return unknownUser('users set-role', username);
  deps.output.out(`${account.username} is now ${account.role}.`);
  return OK;
}

async function setDisabled(command: 'disable' | 'enable', args: string[], deps: UsersDeps): Promise<CommandResult> {
  const parsed = parseCommandArgs(`users ${command}`, {
    args,
    strict: true,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h', default: false } },
  }, { min: 1, max: 1, names: 'USERNAME' });
  if (parsed.status === 'ERROR') return parsed.result;
  if (parsed.values.help) {
    deps.output.out(command === 'disable'
      ? 'Usage: twofold users disable USERNAME\n\n  The account can no longer sign in; twofold users enable USERNAME undoes it.'
      : 'Usage: twofold users enable USERNAME\n\n  A disabled account can sign in again.');
    return OK;
  }
  const [username = ''] = parsed.positionals;
  const account = await withStorage(deps.openStorage, ({ queries }) => queries.accounts.setDisabled(username, command === 'disable'));
  if (!account) return unknownUser(`users ${command}`, username);
  deps.output.out(`${account.username} is ${account.disabled ? 'disabled' : 'enabled'}.`);
  return OK;
}

function passwordProblem(reading: PasswordReading): CommandResult | undefined {
  switch (reading.status) {
    case 'OK':
      return undefined;
    case 'CANCELLED':
      return { status: 'CANCELLED' };
    case 'MISMATCH':
      return userError('twofold users add: the two passwords differ; nothing was created');
    case 'TOO_LONG':
      return userError('twofold users add: the password read from standard input is too long');
    case 'NO_TERMINAL':
      return userError('twofold users add: there is no terminal to ask for the password; pipe it in with --password-stdin');
  }
}

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
