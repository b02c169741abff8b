// Queries on the clients table; client secrets are encrypted at rest.
import type { Knex } from 'knex';
import type { Cipher } from '../security/encryption.js';

/** oidc-provider client metadata (redirect_uris, grant_types, ...), without client_secret. */
export type ClientMetadata = Record<string, unknown>;

export interface Client {
  clientId: string;
  name: string;
  metadata: ClientMetadata;
  clientSecret?: string;
  firstParty: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A client as listed: everything but the secret, plus whether it has one. */
export type ClientSummary = Omit<Client, 'clientSecret'> & { hasSecret: boolean };

export interface NewClient {
  clientId: string;
  name: string;
  metadata: ClientMetadata;
  clientSecret?: string | undefined;
  firstParty: boolean;
}

/** What an update may change: everything but the client_id and the secret (see setSecret). */
export type ClientChanges = Omit<NewClient, 'clientId' | 'clientSecret'>;

interface ClientRow {
  client_id: string;
  name: string;
  metadata: ClientMetadata;
  client_secret_encrypted: string | null;
  first_party: boolean;
  created_at: Date;
  updated_at: Date;
}

/** Creates the client queries on `knex`, sealing secrets with `cipher`. */
export function createClientQueries(knex: Knex, cipher: Cipher) {
  const clients = () => knex<ClientRow>('clients');
  // The client_id is the encryption context, so a secret copied into another client's row does not decrypt.
  const seal = (clientId: string, secret: string) => cipher.encrypt(secret, clientId);

  /** Registers a client; its secret, if any, is stored encrypted. Throws if the client_id exists. */
  async function create(input: NewClient): Promise<Client> {
    const { client_secret: _ignored, ...metadata } = input.metadata;
    const [row] = await clients()
      .insert({
        client_id: input.clientId,
        name: input.name,
        // The secret lives only in its encrypted column, never in the metadata JSON.
        metadata: JSON.stringify(metadata) as unknown as ClientMetadata,
        client_secret_encrypted: input.clientSecret === undefined ? null : seal(input.clientId, input.clientSecret),
        first_party: input.firstParty,
      })
      .returning('*');
    return toClient(row as ClientRow);
  }

  /** The client with this client_id, with its secret decrypted. */
  async function findById(clientId: string): Promise<Client | undefined> {
    const row = await clients().where({ client_id: clientId }).first();
    return row && toClient(row);
  }

  /** Every client, by client_id, without secrets. */
  async function list(): Promise<ClientSummary[]> {
    const rows = await clients().select('*').orderBy('client_id');
    return rows.map((row) => {
      const { clientSecret: _secret, ...summary } = toClient({ ...row, client_secret_encrypted: null });
      return { ...summary, hasSecret: row.client_secret_encrypted !== null };
    });
  }

  /** Deletes a client; false when there was none. */
  async function remove(clientId: string): Promise<boolean> {
    return (await clients().where({ client_id: clientId }).delete()) > 0;
  }

  /** Replaces a client's name, metadata and first-party flag (the secret is kept); false when there is no such client. */
  async function update(clientId: string, changes: ClientChanges): Promise<boolean> {
    const { client_secret: _ignored, ...metadata } = changes.metadata;
    const count = await clients()
      .where({ client_id: clientId })
      .update({
        name: changes.name,
        metadata: JSON.stringify(metadata) as unknown as ClientMetadata,
        first_party: changes.firstParty,
        updated_at: knex.fn.now() as unknown as Date,
      });
    return count > 0;
  }

  /** Replaces a client's secret (stored encrypted); false when there is no such client. */
  async function setSecret(clientId: string, secret: string): Promise<boolean> {
    const count = await clients()
      .where({ client_id: clientId })
      .update({ client_secret_encrypted: seal(clientId, secret), updated_at: knex.fn.now() as unknown as Date });
    return count > 0;
  }

  function toClient(row: ClientRow): Client {
    const client: Client = {
      clientId: row.client_id,
      name: row.name,
      metadata: row.metadata,
      firstParty: row.first_party,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
    if (row.client_secret_encrypted !== null) client.clientSecret = cipher.decrypt(row.client_secret_encrypted, row.client_id);
    return client;
  }

  return { create, findById, list, remove, setSecret, update };
}

export type ClientQueries = ReturnType<typeof createClientQueries>;
