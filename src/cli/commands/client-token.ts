// `twofold clients token`: issues an initial access token for dynamic client registration.
import { IAT_EXPIRIES, isIatExpiry } from '../../clients/issue-initial-access-token.js';
import { defineCommand, OK, userError, withStorage } from '../command.js';
import { printJson } from '../output.js';
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
