// `twofold keys ...`: rotate the provider's signing keys and list them with their state.
import { parseDuration, type Config } from '../../config.js';
import { KEY_REFRESH_SECONDS, MIN_ACTIVATION_SECONDS, publicationAfterRetirement, scheduleAt, type KeyState } from '../../oidc/key-schedule.js';
import { rotateSigningKeys } from '../../oidc/rotate-signing-keys.js';
import { CLI_ORIGIN, createAuditLog } from '../../security/audit.js';
import type { Logger } from '../../logger.js';
import { defineCommand, defineCommandGroup, OK, userError, withStorage, type CliStorage } from '../command.js';
import { formatDate, formatTable, printJson, type Output } from '../output.js';

export interface KeysDeps {
  output: Output;
  /** The configuration, read on demand (throws ConfigError). */
  loadConfig(): Config;
  openStorage(): Promise<CliStorage>;
  getLogger(): Logger;
}

const MAX_ACTIVATION_SECONDS = 30 * 86400;

export const KEYS_HELP = `Usage: twofold keys <command>

Commands:
  rotate [--activate-in 1h] [--json]   add a new RS256 and ES256 key: published at once, signing from later
  list [--json]                        list the signing keys and their state

Run twofold keys <command> --help for details.`;

const ROTATE_HELP = `Usage: twofold keys rotate [--activate-in D] [--json]

  Adds a new RS256 and a new ES256 signing key. Every node publishes them within ${KEY_REFRESH_SECONDS}s, and every node
  signs with them from now + D on; the keys they replace stay published until the ID tokens they signed have expired
  (ID_TOKEN_TTL plus 5 minutes), and are then deleted by a later rotation. Refused while an earlier rotation's keys
  have yet to start signing. Run it with the server's environment (DATABASE_URL, SECRET_KEY, ID_TOKEN_TTL).

  --activate-in D   how long until the new keys sign: e.g. 10m, 1h, 1d (default: 1h, at least 2m, at most 30d).
                    Relying parties that cache the JWKS see the new keys before any token needs them.
  --json            print {"added": [...], "removed": [...]}`;

const rotateKeys = defineCommand({
  name: 'keys rotate',
  usage: ROTATE_HELP,
  options: { 'activate-in': { type: 'string', default: '1h' }, json: { type: 'boolean', default: false } },
}, async ({ values }, deps: KeysDeps) => {
  const given = values['activate-in'];
  const activateIn = parseDuration(given);
  if (activateIn === undefined) {
    return userError(`twofold keys rotate: --activate-in "${given}" is not a duration; use e.g. 10m, 1h or 1d`, 'keys rotate');
  }
  if (activateIn < MIN_ACTIVATION_SECONDS) {
    return userError(`twofold keys rotate: --activate-in must be at least ${MIN_ACTIVATION_SECONDS / 60}m, got ${given}: every node reloads the keys `
      + `every ${KEY_REFRESH_SECONDS}s, and each must publish the new keys before any node signs with them`, 'keys rotate');
  }
  if (activateIn > MAX_ACTIVATION_SECONDS) {
    return userError(`twofold keys rotate: --activate-in must be at most ${MAX_ACTIVATION_SECONDS / 86400}d, got ${given}`, 'keys rotate');
  }
  const config = deps.loadConfig();
  const result = await withStorage(deps.openStorage, ({ queries }) => rotateSigningKeys(
    { queries, audit: createAuditLog(queries, deps.getLogger()), origin: CLI_ORIGIN },
    { activateIn, idTokenTtl: config.lifetimes.idToken },
  ));
  if (result.status === 'PENDING') {
    const pending = result.pending.map((key) => `${key.kid} (${key.alg})`).join(' and ');
    return userError(`twofold keys rotate: the keys of an earlier rotation, ${pending}, sign from ${isoTime(result.pending[0]!.signFrom)}; `
      + 'rotate again after that (see: twofold keys list)');
  }
  if (values.json) {
    printJson(deps.output, {
      added: result.added.map((key) => ({ kid: key.kid, alg: key.alg, sign_from: key.signFrom.toISOString() })),
      removed: result.removed,
    });
    return OK;
  }
  for (const key of result.added) deps.output.out(`Added ${key.alg} key ${key.kid}: it signs from ${isoTime(key.signFrom)}.`);
  for (const key of result.removed) deps.output.out(`Removed ${key.alg} key ${key.kid}: it was no longer published.`);
  deps.output.err(`Every node publishes the new keys within ${KEY_REFRESH_SECONDS}s and signs with them from ${isoTime(result.added[0]!.signFrom)}.`);
  return OK;
});

const listKeys = defineCommand({
  name: 'keys list',
  usage: 'Usage: twofold keys list [--json]\n\n  Lists the signing keys (never the private keys): kid, alg, state and when each was made.\n'
    + '  A key is signing, next (published, signs from a later time), retired (published until its tokens have expired)\n'
    + '  or expired (no longer published; the next rotation deletes it). Times are in UTC.\n  --json   print a JSON array',
  options: { json: { type: 'boolean', default: false } },
}, async ({ values }, deps: KeysDeps) => {
  const config = deps.loadConfig();
  const keys = await withStorage(deps.openStorage, ({ queries }) => queries.signingKeys.list());
  const now = new Date();
  const schedule = scheduleAt(keys, now, publicationAfterRetirement(config.lifetimes.idToken));
  if (values.json) {
    printJson(deps.output, schedule.map(({ key, state }) => ({
      kid: key.kid,
      alg: key.alg,
      state: state.state,
      sign_from: key.signFrom.toISOString(),
      ...('publishedUntil' in state ? { retired_at: state.retiredAt.toISOString(), published_until: state.publishedUntil.toISOString() } : {}),
      created_at: key.createdAt.toISOString(),
    })));
  } else if (schedule.length === 0) {
    deps.output.err('No signing keys yet: the server makes them when it first starts (or run: twofold keys rotate).');
  } else {
    deps.output.out(formatTable(
      ['KID', 'ALG', 'STATE', 'CREATED'],
      schedule.map(({ key, state }) => [key.kid, key.alg, describe(state), formatDate(key.createdAt)]),
    ));
  }
  return OK;
});

/** Runs `twofold keys <command> ...`. */
export const runKeysCommand = defineCommandGroup({
  name: 'keys',
  usage: KEYS_HELP,
  commands: { rotate: rotateKeys, list: listKeys },
});

function describe(state: KeyState): string {
  switch (state.state) {
    case 'signing':
      return 'signing';
    case 'next':
      return `next (signs from ${isoTime(state.signsFrom)})`;
    case 'retired':
      return `retired (published until ${isoTime(state.publishedUntil)})`;
    case 'expired':
      return `expired (not published since ${isoTime(state.publishedUntil)}; deleted by the next rotation)`;
  }
}

/** A time as 2026-12-04T10:30:05Z: to the second, as a sign-from time is. */
function isoTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
