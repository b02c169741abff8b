// Signing keys, one row each, so they can be rotated: a new key is published before it signs, an old one after it stopped.
import type { Knex } from 'knex';

/**
 * Creates the signing_keys table. The keys of an older database, sealed together in provider_keys (kind 'jwks'),
 * are moved here by the application the first time it loads its keys (src/storage/signing-keys.ts): decrypting them
 * needs SECRET_KEY, which migrations do not have.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('signing_keys', (table) => {
    table.text('kid').primary();
    table.text('alg').notNullable();
    table.text('private_jwk_encrypted').notNullable(); // sealed with the context `signing-key:<kid>`
    // From then on this key signs, and the key of its alg that signed before retires. Which key signs at a given
    // time follows from these times alone, so every node decides the same without talking to the others.
    table.timestamp('sign_from', { useTz: true }).notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.check("alg in ('RS256', 'ES256')", [], 'signing_keys_alg_check');
    // Two keys of one alg never take over at the same instant, so "the newest started key signs" is never a tie.
    table.unique(['alg', 'sign_from'], { indexName: 'signing_keys_alg_sign_from_unique' });
  });
}

/** Drops the signing_keys table, and the keys with it: an older version then creates new ones at its next start. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('signing_keys');
}
