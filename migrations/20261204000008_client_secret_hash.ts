// Client secrets are stored hashed: a column for the keyed hash beside the encrypted one it replaces.
import type { Knex } from 'knex';

/**
 * Adds clients.client_secret_hash. A secret stored encrypted by an older version is hashed, and its ciphertext
 * cleared, by the application the first time it reads the client (src/storage/clients.ts): hashing needs
 * SECRET_KEY, which migrations do not have.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (table) => {
    table.text('client_secret_hash').nullable(); // security/client-secrets.ts, bound to the client_id
  });
}

/** Drops the hash column: the secrets it held are lost, and those clients need a new secret. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (table) => {
    table.dropColumn('client_secret_hash');
  });
}
