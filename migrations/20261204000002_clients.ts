// Clients: the applications registered with the provider; their secret is stored encrypted, apart from the metadata.
import type { Knex } from 'knex';

/** Creates the clients table. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('clients', (table) => {
    table.text('client_id').primary();
    table.text('name').notNullable();
    table.jsonb('metadata').notNullable(); // oidc-provider client metadata, never the client_secret
    table.text('client_secret_encrypted').nullable();
    table.boolean('first_party').notNullable().defaultTo(false);
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

/** Drops the clients table. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('clients');
}
