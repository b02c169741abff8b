// Runs the knex migrations in migrations/ (TypeScript under tsx, compiled JavaScript in dist/).
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { migrationsDir } from '../paths.js';

interface MigrationModule {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

// Any number that is the same in every Twofold instance; it names the advisory lock below.
const MIGRATION_LOCK_KEY = 2_024_120_400;

/** A knex migration source reading `dir` (default: migrationsDir): .ts or .js files, not .d.ts or .map, in name order. */
export function createMigrationSource(dir: string = migrationsDir): Knex.MigrationSource<string> {
  return {
    async getMigrations() {
      const files = await readdir(dir);
      return files.filter((file) => /\.(ts|js)$/.test(file) && !file.endsWith('.d.ts')).sort();
    },
    // Recorded without the extension, so a database migrated under tsx (.ts) is up to date when compiled (.js).
    getMigrationName: (file) => file.replace(/\.(ts|js)$/, ''),
    async getMigration(file) {
      const module = (await import(pathToFileURL(path.join(dir, file)).href)) as MigrationModule;
      if (typeof module.up !== 'function' || typeof module.down !== 'function') {
        throw new Error(`Migration ${file} must export up(knex) and down(knex)`);
      }
      return { up: module.up, down: module.down };
    },
  };
}

/** Brings the schema up to date; safe when several instances start at once. Returns the names of the migrations it ran. */
export async function runMigrations(knex: Knex, dir: string = migrationsDir): Promise<string[]> {
  // knex's own lock (a row in knex_migrations_lock) makes a second instance fail instead of wait, and two
  // instances creating the knex_migrations tables at the same time can even leave two lock rows. So
  // everything runs in one transaction that first takes a Postgres advisory lock: the second instance
  // waits, then finds nothing left to do. On a single connection (PGlite) this works just the same.
  return knex.transaction(async (trx) => {
    await trx.raw("set local statement_timeout = '5min'");
    await trx.raw('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
    const [, log] = (await trx.migrate.latest({ migrationSource: createMigrationSource(dir) })) as [number, string[]];
    return log;
  });
}
