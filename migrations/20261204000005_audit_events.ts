// Audit events: an append-only history of security-relevant actions (sign-ins, second factor changes, admin actions).
import type { Knex } from 'knex';

/** Creates the audit_events table, its indexes and the trigger that keeps it append-only. */
export async function up(knex: Knex): Promise<void> {
  const schema = await currentSchema(knex);
  await knex.schema.createTable('audit_events', (table) => {
    // "generated always": nobody picks an id, so the sequence of ids is the order events were written in.
    table.specificType('id', 'bigint generated always as identity').primary();
    table.timestamp('occurred_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.uuid('account_id').nullable(); // no foreign key: the history outlives the account it tells about
    table.text('event').notNullable();
    table.text('ip').nullable();
    table.text('user_agent').nullable();
    table.text('client_id').nullable();
    table.jsonb('details').notNullable().defaultTo(knex.raw("'{}'::jsonb"));
  });
  await knex.raw('create index audit_events_account_idx on ?? (account_id, occurred_at desc)', ['audit_events']);
  await knex.raw('create index audit_events_event_idx on ?? (event, occurred_at desc)', ['audit_events']);
  await knex.raw('create index audit_events_occurred_idx on ?? (occurred_at desc)', ['audit_events']);
  // Why: OWASP ASVS 16.4.2, the application cannot alter its own audit trail. Even with a bug or an injected
  // query, its connection can add events but not rewrite or erase them. (The table owner could still drop the
  // trigger; a deployment that needs more runs the app as a role that does not own the table.)
  // The function is created in the migration's own schema (the first of search_path), so that
  // `drop schema ... cascade` removes it with the table and each schema has its own.
  await knex.raw(
    `create function ??.audit_events_append_only() returns trigger language plpgsql as $$
     begin
       raise exception 'audit_events is append-only: % is not allowed', tg_op
         using errcode = 'insufficient_privilege', hint = 'audit events can only be inserted';
     end
     $$`,
    [schema],
  );
  // Statement-level, so even an UPDATE or DELETE matching no row is refused, and TRUNCATE is covered too.
  await knex.raw(
    `create trigger audit_events_append_only before update or delete or truncate on ??.??
     for each statement execute function ??.audit_events_append_only()`,
    [schema, 'audit_events', schema],
  );
}

/** Drops the audit_events table and its trigger function. */
export async function down(knex: Knex): Promise<void> {
  const schema = await currentSchema(knex);
  await knex.schema.dropTable('audit_events'); // drops the trigger with it
  await knex.raw('drop function ??.audit_events_append_only()', [schema]);
}

async function currentSchema(knex: Knex): Promise<string> {
  const { rows } = (await knex.raw('select current_schema() as schema')) as { rows: { schema: string | null }[] };
  const schema = rows[0]?.schema;
  if (!schema) throw new Error('no schema in search_path exists: cannot place the audit_events trigger function');
  return schema;
}
