// `twofold migrate`: brings the database schema up to date and says what ran.
import type { Database } from '../../storage/database.js';
import { runMigrations } from '../../storage/migrate.js';
import { defineCommand, OK } from '../command.js';
import { printJson, type Output } from '../output.js';

export interface MigrateDeps {
  output: Output;
  /** Opens the database without migrating it (that is this command's job). */
  openDatabase(): Promise<Database>;
}

export const MIGRATE_HELP = `Usage: twofold migrate [--json]

  Runs the database migrations that have not run yet (the server also runs them when it starts).
  Safe to run any number of times, and while other instances start.
  --json   print {"ran": [...]} `;

/** Runs `twofold migrate`. */
export const runMigrateCommand = defineCommand({
  name: 'migrate',
  usage: MIGRATE_HELP,
  options: { json: { type: 'boolean', default: false } },
}, async ({ values }, deps: MigrateDeps) => {
  const database = await deps.openDatabase();
  let ran: string[];
  try {
    ran = await runMigrations(database.knex);
  } finally {
    await database.close();
  }
  if (values.json) printJson(deps.output, { ran });
  else if (ran.length === 0) deps.output.out('The database is up to date.');
  else deps.output.out(`Ran ${ran.length} migration${ran.length === 1 ? '' : 's'}:\n${ran.map((name) => `  ${name}`).join('\n')}`);
  return OK;
});
