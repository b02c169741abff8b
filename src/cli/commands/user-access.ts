// `twofold users set-password`, `disable` and `enable`: who can sign in, with the end of the sessions that no longer
// should go on, in the servers' Redis when the CLI has its settings.
import { CLI_ORIGIN, createAuditLog } from '../../security/audit.js';
import { checkNewPassword, hashPassword } from '../../security/passwords.js';
import { defineCommand, OK, userError, withStorage, type CommandResult } from '../command.js';
import { passwordProblem } from '../read-password.js';
import { announceChange, endAccountSessions, reportEndedSessions } from '../server-redis.js';
import type { UsersDeps } from './users.js';

/** `twofold users set-password`: a new password, and (with the servers' Redis) the end of the old one's sessions. */
export const setPassword = defineCommand({
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

export const disableUser = setDisabled('disable', 'Usage: twofold users disable USERNAME\n\n  The account can no longer sign in; twofold users enable USERNAME undoes it. With the server\'s Redis settings\n'
  + '  (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES, and REDIS_PREFIX), its sessions end and its grants are revoked\n'
  + '  with their tokens; without them, they stop working because the server refuses the account, and are kept.');

export const enableUser = setDisabled('enable', 'Usage: twofold users enable USERNAME\n\n  A disabled account can sign in again.');

export function unknownUser(command: string, username: string): CommandResult {
  return userError(`twofold ${command}: there is no user named "${username}" (see: twofold users list)`);
}
