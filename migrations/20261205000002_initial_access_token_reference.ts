// Initial access tokens are found by their reference with an index instead of a scan of the register.
import type { Knex } from 'knex';

/** Indexes the reference (the first 12 characters of the id) that revoking a token looks it up by. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('create index initial_access_tokens_reference_index on initial_access_tokens (left(id, 12))');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index initial_access_tokens_reference_index');
}
