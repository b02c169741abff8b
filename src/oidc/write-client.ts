// Stores dynamically registered clients (RFC 7591/7592) in Postgres like console clients: the adapter's clientWriter.
import { errors, type ClientMetadata } from 'oidc-provider';
import { checkRegistrationMetadata } from '../clients/check-registration-metadata.js';
import { deleteClient } from '../clients/delete-client.js';
import type { ClientWriter } from '../storage/oidc-adapter.js';
import type { Queries } from '../storage/queries.js';
import type { ShortLivedStore } from '../storage/short-lived/short-lived-store.js';
import type { ClientCache } from './client-cache.js';

export interface ClientWriterDeps {
  queries: Pick<Queries, 'clients'>;
  store: Pick<ShortLivedStore, 'revokeByClientId'>;
  cache: Pick<ClientCache, 'invalidate'>;
}

/** Creates the writer oidc-provider's Client model uses when a client registers, updates or deletes itself. */
export function createClientWriter(deps: ClientWriterDeps): ClientWriter {
  const invalidate = (clientId: string) => deps.cache.invalidate(clientId);
  return {
    async upsert(clientId: string, metadata: ClientMetadata): Promise<void> {
      // A safety net behind the registration policy, which an initial access token without it would skip.
      const refused = checkRegistrationMetadata(metadata);
      if (refused) throw new errors.InvalidClientMetadata(refused);
      const { client_id: _id, client_name: clientName, client_secret: secret, first_party: _firstParty, ...stored } = metadata;
      const name = typeof clientName === 'string' ? clientName : '';
      const clientSecret = typeof secret === 'string' ? secret : undefined;
      const existing = await deps.queries.clients.findById(clientId);
      if (!existing) {
        // A registered client is never first-party (no consent): only an administrator can make it one.
        await deps.queries.clients.create({ clientId, name, metadata: stored, clientSecret, firstParty: false });
      } else {
        await deps.queries.clients.update(clientId, { name, metadata: stored, firstParty: existing.firstParty });
        // An update carries the stored hash back (oidc-provider keeps the client's client_secret), or a secret it has
        // just generated for a client that now needs one.
        if (clientSecret !== undefined && clientSecret !== existing.secretHash) await deps.queries.clients.setSecret(clientId, clientSecret);
      }
      invalidate(clientId);
    },
    async destroy(clientId: string): Promise<void> {
      await deleteClient({ queries: deps.queries, store: deps.store, invalidate }, clientId);
    },
  };
}
