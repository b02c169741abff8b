// Queries on the clients table; client secrets are stored as a keyed hash (security/client-secrets.ts).
import type { Knex } from 'knex';
import { isSecretHash, type ClientSecretHasher } from '../security/client-secrets.js';
import type { Cipher } from '../security/encryption.js';

/** oidc-provider client metadata (redirect_uris, grant_types, ...), without client_secret. */
export type ClientMetadata = Record<string, unknown>;

export interface Client {
  clientId: string;
  name: string;
  metadata: ClientMetadata;
  /** The stored form of the secret, never the secret: check one with ClientSecretHasher.verify. */
  secretHash?: string;
  firstParty: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A client as listed: everything but the secret, plus whether it has one. */
export type ClientSummary = Omit<Client, 'secretHash'> & { hasSecret: boolean };

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
  client_secret_hash: string | null;
  /** Only on rows from before secrets were hashed, until their first read hashes them. */
  client_secret_encrypted: string | null;
  first_party: boolean;
  created_at: Date;
  updated_at: Date;
}

/** Creates the client queries on `knex`, storing secrets hashed with `hasher`; `cipher` opens secrets stored encrypted before. */
export function createClientQueries(knex: Knex, hasher: ClientSecretHasher, cipher: Cipher) {
  const clients = () => knex<ClientRow>('clients');
  const hash = (clientId: string, secret: string) => {
    // A stored form handed back as a secret would be hashed twice and never match again: a bug, so refuse it.
    if (isSecretHash(secret)) throw new Error('a client secret must be the secret itself, not its stored form');
    return hasher.hash(clientId, secret);
  };

  /** Registers a client; its secret, if any, is stored hashed. Throws if the client_id exists. */
  async function create(input: NewClient): Promise<Client> {
    const { client_secret: _ignored, ...metadata } = input.metadata;
    const [row] = await clients()
      .insert({
        client_id: input.clientId,
        name: input.name,
        // Only the secret's hash is kept, in its own column, never the secret or the metadata's copy of it.
        metadata: JSON.stringify(metadata) as unknown as ClientMetadata,
        client_secret_hash: input.clientSecret === undefined ? null : hash(input.clientId, input.clientSecret),
        first_party: input.firstParty,
      })
      .returning('*');
    return toClient(row as ClientRow);
  }

  /** The client with this client_id, with the stored form of its secret. */
  async function findById(clientId: string): Promise<Client | undefined> {
    const row = await clients().where({ client_id: clientId }).first();
    if (row?.client_secret_encrypted) return toClient(await hashEncryptedSecret(row, row.client_secret_encrypted));
    return row && toClient(row);
  }

  /**
   * Replaces a secret stored encrypted by an older version with its hash, once. Guarded by the ciphertext read, so
   * a secret rotated in between is never overwritten with the old one.
   */
  async function hashEncryptedSecret(row: ClientRow, sealed: string): Promise<ClientRow> {
    // The client_id is the encryption context: a ciphertext copied into another client's row does not decrypt.
    const secretHash = hash(row.client_id, cipher.decrypt(sealed, row.client_id));
    await clients().where({ client_id: row.client_id, client_secret_encrypted: sealed }).update({ client_secret_hash: secretHash, client_secret_encrypted: null });
    return { ...row, client_secret_hash: secretHash, client_secret_encrypted: null };
  }

  /** Every client, by client_id, without secrets. */
  async function list(): Promise<ClientSummary[]> {
    const rows = await clients().select('*').orderBy('client_id');
    return rows.map((row) => {
      const { secretHash: _secret, ...summary } = toClient({ ...row, client_secret_hash: null });
      return { ...summary, hasSecret: row.client_secret_hash !== null || row.client_secret_encrypted !== null };
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

  /** Replaces a client's secret (stored hashed); false when there is no such client. */
  async function setSecret(clientId: string, secret: string): Promise<boolean> {
    const count = await clients()
      .where({ client_id: clientId })
      .update({ client_secret_hash: hash(clientId, secret), client_secret_encrypted: null, updated_at: knex.fn.now() as unknown as Date });
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
    if (row.client_secret_hash !== null) client.secretHash = row.client_secret_hash;
    return client;
  }

  return { create, findById, list, remove, setSecret, update };
}

export type ClientQueries = ReturnType<typeof createClientQueries>;
