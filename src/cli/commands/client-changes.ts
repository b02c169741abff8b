// `twofold clients remove` and `rotate-secret`: changes to an existing client, which running servers are told of.
import { rotateClientSecret } from '../../clients/register-client.js';
import { CLI_ORIGIN, createAuditLog, type AuditEventName } from '../../security/audit.js';
import type { Queries } from '../../storage/queries.js';
import { defineCommand, OK, userError, withStorage, type CommandResult } from '../command.js';
import { printJson } from '../output.js';
import { announceChange, SERVER_CACHE_SECONDS, withServerRedis } from '../server-redis.js';
import type { ClientsDeps } from './clients.js';

/** `twofold clients remove`: the row, then (with the servers' Redis) the client's grants and every cached copy. */
export const removeClient = defineCommand({
  name: 'clients remove',
  usage: 'Usage: twofold clients remove CLIENT_ID\n\n  Deletes the client: it can no longer sign users in or use its tokens. With the server\'s Redis settings\n'
    + '  (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES, and REDIS_PREFIX), its grants are revoked with their tokens and\n'
    + `  running servers forget it at once; without them, they forget it within ${SERVER_CACHE_SECONDS} seconds.`,
  positionals: { min: 1, max: 1, names: 'CLIENT_ID' },
}, async ({ positionals: [clientId] }, deps: ClientsDeps) => {
  return withStorage(deps.openStorage, async ({ config, queries }) => {
    const client = await queries.clients.findById(clientId);
    // The row first: from then on no server that looks the client up finds it, so no grant made later is missed.
    if (!(await queries.clients.remove(clientId))) return unknownClient('clients remove', clientId);
    const revoked = await withServerRedis(config, async ({ store, announce }) => {
      await announce(clientId, 'clients');
      return store.revokeByClientId(clientId);
    });
    await auditClientChange(deps, queries, 'client.deleted', clientId, revoked.status === 'DONE'
      ? { name: client?.name, tokensRevoked: true, grantsRevoked: revoked.value }
      : { name: client?.name, tokensRevoked: false });
    deps.output.out(`Removed client ${clientId}.`);
    if (revoked.status === 'DONE') {
      deps.output.out(`${revoked.value} grant${revoked.value === 1 ? '' : 's'} revoked with their tokens.`);
      return OK;
    }
    const why = revoked.status === 'NO_REDIS' ? 'the server\'s Redis settings are not set here' : `Redis could not be reached (${revoked.reason})`;
    deps.output.err(`Its grants were not revoked, as ${why}: its tokens fail anyway, as every server looks the client up again, `
      + `and running servers forget it within ${SERVER_CACHE_SECONDS} seconds.`);
    return OK;
  });
});

/** `twofold clients rotate-secret`: a new secret, printed once; the servers drop the cached copy with the old one. */
export const rotateSecret = defineCommand({
  name: 'clients rotate-secret',
  usage: 'Usage: twofold clients rotate-secret CLIENT_ID [--json]\n\n  Replaces the secret at once (the old one stops working) and prints the new one, once.',
  options: { json: { type: 'boolean', default: false } },
  positionals: { min: 1, max: 1, names: 'CLIENT_ID' },
}, async ({ values, positionals: [clientId] }, deps: ClientsDeps) => {
  const result = await withStorage(deps.openStorage, async ({ config, queries }) => {
    const rotated = await rotateClientSecret({ queries }, clientId);
    if (rotated.status === 'ROTATED') {
      await auditClientChange(deps, queries, 'client.secret_rotated', clientId, {});
      // Why: a server's cached copy would take the old secret for a while longer.
      await announceChange(config, deps.output, clientId, 'clients');
    }
    return rotated;
  });
  if (result.status === 'NOT_FOUND') return unknownClient('clients rotate-secret', clientId);
  if (result.status === 'PUBLIC_CLIENT') {
    return userError(`twofold clients rotate-secret: ${clientId} is a public client; it has no secret to rotate (it uses PKCE)`);
  }
  if (values.json) {
    printJson(deps.output, { client_id: clientId, client_secret: result.clientSecret });
    return OK;
  }
  deps.output.out(`client_secret: ${result.clientSecret}`);
  deps.output.err('The old secret no longer works. The new one is shown only once: store it now.');
  return OK;
});

/** Records a client change made with the CLI, as the console records its own (ASVS 16.3.2). */
export function auditClientChange(deps: ClientsDeps, queries: Queries, event: AuditEventName, clientId: string, details: Record<string, unknown>): Promise<void> {
  return createAuditLog(queries, deps.getLogger()).record(event, { ...CLI_ORIGIN, clientId }, null, details);
}

function unknownClient(command: string, clientId: string): CommandResult {
  return userError(`twofold ${command}: there is no client with client_id "${clientId}" (see: twofold clients list)`);
}
