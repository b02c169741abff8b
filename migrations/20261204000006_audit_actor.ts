// Who did it: the account that performed an action on someone else (an administrator), if not the subject.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('audit_events', (table) => {
    table.uuid('actor_id').nullable();
    table.index(['actor_id', 'occurred_at'], 'audit_events_actor_time');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('audit_events', (table) => {
    table.dropIndex(['actor_id', 'occurred_at'], 'audit_events_actor_time');
    table.dropColumn('actor_id');
  });
}
