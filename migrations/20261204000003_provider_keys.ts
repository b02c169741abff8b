// Provider keys: the signing keys (JWKS) and cookie keys, generated once and stored encrypted.
import type { Knex } from 'knex';

/** Creates the provider_keys table. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('provider_keys', (table) => {
    table.text('kind').primary(); // e.g. 'jwks', 'cookie-keys'
    table.text('value_encrypted').notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

/** Drops the provider_keys table. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('provider_keys');
}
