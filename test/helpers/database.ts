// A fresh Postgres schema per test suite, migrated, on the real database from DATABASE_URL.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { migrationsDir } from '../../src/paths.js';
import type { Knex } from 'knex';
import { createLogger } from '../../src/logger.js';
import { openDatabase, pingDatabase, redactDatabaseUrl, type Database } from '../../src/storage/database.js';
import { runMigrations } from '../../src/storage/migrate.js';

export interface TestDatabase {
  knex: Knex;
  schema: string;
  /** Drops the schema (cascade) and closes the connections. */
  cleanup(): Promise<void>;
}

/** The Postgres the storage tests run against. */
export function testDatabaseUrl(): string {
  return process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';
}

/** Opens another connection pool on an existing schema (e.g. a second "instance" of the app). */
export async function openTestDatabase(schema: string): Promise<Database> {
  const database = await openDatabase({
    databaseUrl: testDatabaseUrl(),
    schema,
    dataDir: os.tmpdir(),
    logger: createLogger('silent'),
    mode: 'server',
  }).catch((err: unknown) => {
    throw new Error(
      `Postgres is not reachable at ${redactDatabaseUrl(testDatabaseUrl())} (${(err as Error).message}). ` +
        'The storage tests need a real Postgres: start one or set DATABASE_URL.',
      { cause: err },
    );
  });
  await pingDatabase(database.knex);
  return database;
}

/** Creates schema `t_<random>`, runs the migrations in it and returns its knex. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const database = await openTestDatabase(schema);
  try {
    await runMigrations(database.knex);
  } catch (err) {
    await dropSchema(database, schema);
    throw err;
  }
  return { knex: database.knex, schema, cleanup: () => dropSchema(database, schema) };
}

async function dropSchema(database: Database, schema: string): Promise<void> {
  try {
    await database.knex.raw('drop schema if exists ?? cascade', [schema]);
  } finally {
    await database.close();
  }
}

/** The names of every migration in migrations/, in the order they run (without file extensions). */
export function migrationNames(): string[] {
  return readdirSync(migrationsDir)
    .filter((file) => /\.(ts|js)$/.test(file) && !file.endsWith('.d.ts'))
    .map((file) => file.replace(/\.(ts|js)$/, ''))
    .sort();
}
