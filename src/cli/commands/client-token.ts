// `twofold clients token`, `tokens` and `revoke-token`: initial access tokens for dynamic client registration.
import { IAT_EXPIRIES, IAT_LIST_DAYS, isIatExpiry, isTokenReference, listedSince, TOKEN_REFERENCE_FORM, revokeInitialAccessToken } from '../../clients/issue-initial-access-token.js';
import { CLI_ORIGIN, createAuditLog } from '../../security/audit.js';
import { defineCommand, OK, userError, withStorage } from '../command.js';
import { formatDate, formatTable, printJson } from '../output.js';
import { withServerRedis } from '../server-redis.js';
import type { ClientsDeps } from './clients.js';

const TOKEN_HELP = `Usage: twofold clients token [--expires 1h|24h|7d] [--json]

  Issues an initial access token for dynamic client registration (RFC 7591, POST /reg). It registers one client
  before it expires, and is printed once. It is kept in the server's Redis store, so REDIS_URL (or REDIS_SENTINELS or
  REDIS_CLUSTER_NODES, and REDIS_PREFIX) must be the server's; without Redis, issue it from the admin console
  (Administration › Clients).

  --expires D   ${Object.keys(IAT_EXPIRIES).join(', ')} (default: 24h)
  --json        print only {"initial_access_token": ..., "expires_at": ...}`;

/** `twofold clients token`: an initial access token for dynamic registration, printed once. */
export const issueToken = defineCommand({
  name: 'clients token',
  usage: TOKEN_HELP,
  options: { expires: { type: 'string', default: '24h' }, json: { type: 'boolean', default: false } },
}, async ({ values }, deps: ClientsDeps) => {
  const expiry = values.expires;
  if (!isIatExpiry(expiry)) {
    return userError(`twofold clients token: --expires must be one of ${Object.keys(IAT_EXPIRIES).join(', ')}, got "${expiry}"`, 'clients token');
  }
  const config = deps.loadConfig();
  if (!config.redis) {
    // Without Redis the server keeps tokens in its own memory, which no other process can reach.
    return userError('twofold clients token: initial access tokens live in the server\'s store (Redis), and REDIS_URL is not set '
      + '(nor REDIS_SENTINELS or REDIS_CLUSTER_NODES), so a token made here would not reach the server. Issue it from the admin '
      + 'console instead: Administration › Clients › Issue an initial access token (or run this command with the server\'s Redis settings).');
  }
  const issued = await withStorage(deps.openStorage, async ({ queries }) =>
    (await import('../issue-initial-access-token.js')).issueInitialAccessTokenFromCli({ config, queries }, expiry));
  if (values.json) {
    printJson(deps.output, { initial_access_token: issued.token, expires_at: issued.expiresAt.toISOString() });
    return OK;
  }
  deps.output.out(`initial_access_token: ${issued.token}`);
  deps.output.err(`It registers one client at ${config.issuer}/reg until ${issued.expiresAt.toISOString()}. It is shown only once: store it now.`);
  return OK;
});

/** `twofold clients tokens`: the initial access tokens issued lately and what became of them; never the tokens. */
export const listTokens = defineCommand({
  name: 'clients tokens',
  usage: `Usage: twofold clients tokens [--all] [--json]

  Lists the initial access tokens that can still register a client: reference, issued, by, expires. The reference
  (the start of the token's SHA-256) is what twofold clients revoke-token and the audit log name a token by.

  --all    also those used, revoked or expired in the last ${IAT_LIST_DAYS} days, with their state
  --json   print a JSON array`,
  options: { all: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
}, async ({ values }, deps: ClientsDeps) => {
  const since = listedSince();
  const tokens = await withStorage(deps.openStorage, ({ queries }) => queries.initialAccessTokens.list({ since, activeOnly: !values.all }));
  if (values.json) {
    printJson(deps.output, tokens.map((t) => ({
      reference: t.reference, state: t.status, issued_at: t.issuedAt.toISOString(), issued_by: t.issuedBy?.username ?? null, via: t.via,
      expires_at: t.expiresAt.toISOString(), client_id: t.clientId,
    })));
  } else if (tokens.length === 0) {
    deps.output.err(values.all ? `No initial access tokens were issued in the last ${IAT_LIST_DAYS} days.` : 'No initial access token can register a client now.');
  } else {
    deps.output.out(formatTable(
      ['REFERENCE', 'STATE', 'ISSUED', 'BY', 'EXPIRES', 'CLIENT'],
      tokens.map((t) => [t.reference, t.status, formatDate(t.issuedAt), t.issuedBy?.username ?? (t.via === 'cli' ? '(cli)' : '(deleted)'), formatDate(t.expiresAt), t.clientId ?? '']),
    ));
  }
  return OK;
});

/** `twofold clients revoke-token`: an unused initial access token stops working at once. */
export const revokeToken = defineCommand({
  name: 'clients revoke-token',
  usage: `Usage: twofold clients revoke-token REFERENCE

  Revokes an initial access token that has not registered a client yet: it stops working at once. REFERENCE is the
  12 characters twofold clients tokens shows. The token is in the server's Redis store, so REDIS_URL (or
  REDIS_SENTINELS or REDIS_CLUSTER_NODES, and REDIS_PREFIX) must be the server's; without Redis, revoke it from the
  admin console (Administration › Clients › Initial access tokens).`,
  // A reference is 12 base64url characters and may begin with '-'.
  positionals: { min: 1, max: 1, names: 'REFERENCE', form: TOKEN_REFERENCE_FORM },
}, async ({ positionals: [reference] }, deps: ClientsDeps) => {
  if (!isTokenReference(reference)) {
    return userError(`twofold clients revoke-token: "${reference}" is not a token reference: give the 12 characters twofold clients tokens shows`, 'clients revoke-token');
  }
  const config = deps.loadConfig();
  if (!config.redis) {
    return userError('twofold clients revoke-token: initial access tokens live in the server\'s store (Redis), and REDIS_URL is not set '
      + '(nor REDIS_SENTINELS or REDIS_CLUSTER_NODES), so the token cannot be reached from here. Revoke it from the admin console '
      + 'instead: Administration › Clients › Initial access tokens (or run this command with the server\'s Redis settings).');
  }
  const outcome = await withStorage(deps.openStorage, async ({ queries }) => {
    const revoked = await withServerRedis(config, ({ store }) => revokeInitialAccessToken({ queries, store }, reference, null));
    if (revoked.status === 'DONE' && revoked.value.status === 'REVOKED') {
      await createAuditLog(queries, deps.getLogger()).record('initial_access_token.revoked', CLI_ORIGIN, null, { reference, via: 'cli' });
    }
    return revoked;
  });
  if (outcome.status !== 'DONE') {
    return userError(`twofold clients revoke-token: the token was not revoked (${outcome.status === 'NO_REDIS' ? 'Redis is not configured' : outcome.reason}); run the command again.`);
  }
  const result = outcome.value;
  if (result.status === 'NOT_FOUND') return userError(`twofold clients revoke-token: no initial access token has the reference ${reference} (see twofold clients tokens --all)`);
  if (result.status === 'NOT_ACTIVE') {
    return userError(`twofold clients revoke-token: token ${reference} can no longer be revoked: it is ${result.token.status}${result.token.clientId ? ` (it registered ${result.token.clientId})` : ''}`);
  }
  deps.output.out(`Revoked initial access token ${reference}: it can no longer register a client.`);
  return OK;
});
