// Reads a client's oidc-provider metadata from Postgres (the Client model has no other source).
import type { ClientMetadata } from 'oidc-provider';
import type { Queries } from '../storage/queries.js';

/**
 * Returns the metadata oidc-provider needs for a client id, or undefined. Its client_secret is the stored hash:
 * compareClientSecret checks a presented secret against it (client-secret-auth.ts), and no HS* algorithm or
 * symmetric encryption is enabled that would take it for a key.
 */
export function createClientFinder(queries: Pick<Queries, 'clients'>): (clientId: string) => Promise<ClientMetadata | undefined> {
  return async (clientId) => {
    const record = await queries.clients.findById(clientId);
    if (!record) return undefined;
    return {
      ...record.metadata,
      client_id: record.clientId,
      // A dynamically registered client may have no name; an empty client_name would not be valid metadata.
      ...(record.name ? { client_name: record.name } : {}),
      first_party: record.firstParty,
      ...(record.secretHash ? { client_secret: record.secretHash } : {}),
    } as ClientMetadata;
  };
}
