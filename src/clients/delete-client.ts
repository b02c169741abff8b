// Deletes a client and revokes everything it was given: its grants, and every token issued under them.
import type { Queries } from '../storage/queries.js';
import type { ShortLivedStore } from '../storage/short-lived/short-lived-store.js';
import type { InvalidateClient } from './register-client.js';

export interface DeleteClientDeps {
  queries: Pick<Queries, 'clients'>;
  store: Pick<ShortLivedStore, 'revokeByClientId'>;
  invalidate: InvalidateClient;
}

export type DeleteResult = { status: 'DELETED'; grantsRevoked: number } | { status: 'NOT_FOUND' };

/**
 * Removes the client row, then revokes every grant of the client (admin console and RFC 7592 DELETE).
 * The order matters: once the row is gone and the cache has forgotten the client, no new authorization or token
 * request for it can start in this process, so the revocation that follows cannot miss a grant made meanwhile.
 * (A request already past its client lookup may still save a grant; its tokens fail anyway, because userinfo,
 * refresh and introspection look the client up again and it is gone.)
 */
export async function deleteClient(deps: DeleteClientDeps, clientId: string): Promise<DeleteResult> {
  const removed = await deps.queries.clients.remove(clientId);
  deps.invalidate(clientId);
  if (!removed) return { status: 'NOT_FOUND' };
  const grantsRevoked = await deps.store.revokeByClientId(clientId);
  return { status: 'DELETED', grantsRevoked };
}
