// A register of the initial access tokens issued, so administrators can list them and revoke one before it is used.
import type { Knex } from 'knex';

/**
 * Creates initial_access_tokens. The token itself lives in the short-lived store (Redis), which decides whether it
 * still works; this table only records what was issued, by whom, and what became of it. It never holds the token:
 * its id is the SHA-256 the store keys the token by, which cannot be presented in its place.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('initial_access_tokens', (table) => {
    table.text('id').primary(); // base64url SHA-256 of the token; its first 12 characters are the reference shown
    table.timestamp('issued_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('expires_at', { useTz: true }).notNullable();
    table.uuid('issued_by').nullable().references('id').inTable('accounts').onDelete('SET NULL'); // null: the CLI
    table.text('via').notNullable();
    table.timestamp('used_at', { useTz: true }).nullable();
    table.text('client_id').nullable(); // the client it registered; no foreign key, as the client may be deleted later
    table.timestamp('revoked_at', { useTz: true }).nullable();
    table.uuid('revoked_by').nullable().references('id').inTable('accounts').onDelete('SET NULL');
    table.check("via in ('console', 'cli')", [], 'initial_access_tokens_via_check');
    table.index(['issued_at'], 'initial_access_tokens_issued_at_index');
  });
}

/** Drops the register; the tokens themselves keep working until they expire or are used. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('initial_access_tokens');
}
