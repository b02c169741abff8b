// Accounts: the people who sign in, with a case-insensitive unique username.
import type { Knex } from 'knex';

/** Creates the accounts table. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('accounts', (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table.text('username').notNullable();
    table.text('name').notNullable();
    table.text('email').notNullable();
    table.text('role').notNullable().defaultTo('user');
    table.text('password_hash').notNullable();
    table.boolean('disabled').notNullable().defaultTo(false);
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.check("role in ('user', 'sysadmin')", [], 'accounts_role_check');
  });
  // "Alice" and "alice" are the same person: uniqueness is enforced by the database, case-insensitively.
  await knex.raw('create unique index accounts_username_lower_unique on ?? (lower(username))', ['accounts']);
}

/** Drops the accounts table. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('accounts');
}
