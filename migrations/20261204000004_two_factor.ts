// Two-factor authentication: one TOTP secret per account (encrypted), and the accounts' setup-postponement state.
import type { Knex } from 'knex';

/** Creates account_totp and adds the two-factor and email-verification columns to accounts. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('account_totp', (table) => {
    table.uuid('account_id').primary().references('id').inTable('accounts').onDelete('CASCADE');
    table.text('secret_encrypted').notNullable(); // sealed with the context `totp:<account_id>`
    // The last accepted RFC 6238 time step: a code is accepted only for a later step, so none is used twice.
    table.bigInteger('last_step').notNullable();
    table.timestamp('connected_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('last_used_at', { useTz: true }).nullable();
  });
  await knex.schema.alterTable('accounts', (table) => {
    table.integer('mfa_postponements_used').notNullable().defaultTo(0);
    // Once an account has had a second factor, removing it must not reopen the "set it up later" allowance.
    table.boolean('mfa_connected_before').notNullable().defaultTo(false);
    table.timestamp('email_verified_at', { useTz: true }).nullable();
    table.check('mfa_postponements_used >= 0', [], 'accounts_mfa_postponements_used_check');
  });
}

/** Drops account_totp and the added accounts columns. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('account_totp');
  await knex.schema.alterTable('accounts', (table) => {
    table.dropChecks(['accounts_mfa_postponements_used_check']);
    table.dropColumns('mfa_postponements_used', 'mfa_connected_before', 'email_verified_at');
  });
}
