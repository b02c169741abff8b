// After the cuts: the accounts, authenticators and audit events are all still there, and cut-off sysadmins log in again.
import knexFactory from 'knex';
import type { SeededUser } from '../seed.js';
import type { BenchContext } from '../scenarios/context.js';
import { claimNextCode, signIn } from '../scenarios/login.js';
import { databaseUrl } from '../server.js';

export interface StoreCounts {
  accounts: number;
  /** Connected authenticator apps (account_totp rows). */
  authenticators: number;
  auditEvents: number;
  /** login.succeeded audit events. */
  loginsRecorded: number;
}

export interface NothingLost {
  /** Counted right before the first cut, and after the load stopped. */
  before: StoreCounts;
  after: StoreCounts;
  /** Logins the bench saw succeed in the whole run: each must have its login.succeeded event (the schema is new). */
  successfulLogins: number;
  /** Sysadmins whose login failed during a cut, signed in again (password + TOTP) once the stores were back. */
  signInsAgain: { tried: number; succeeded: number; failures: string[] };
  problems: string[];
}

/** Counts the rows that must survive an outage, straight from Postgres (not through the proxy). */
export async function countStoreRows(schema: string): Promise<StoreCounts> {
  const knex = knexFactory({ client: 'pg', connection: databaseUrl(), pool: { min: 0, max: 1 } });
  try {
    const count = async (table: string, where: Record<string, string> = {}) => {
      const [row] = await knex.withSchema(schema).from(table).where(where).count({ n: '*' });
      return Number(row?.['n'] ?? 0);
    };
    return {
      accounts: await count('accounts'),
      authenticators: await count('account_totp'),
      auditEvents: await count('audit_events'),
      loginsRecorded: await count('audit_events', { event: 'login.succeeded' }),
    };
  } finally {
    await knex.destroy();
  }
}

/** Signs each of `users` in again with password and TOTP (waiting for a TOTP step they have not used). */
export async function signInAgain(ctx: BenchContext, users: SeededUser[]): Promise<NothingLost['signInsAgain']> {
  const failures: string[] = [];
  for (const user of users) {
    try {
      await signIn(ctx, user.username, await claimNextCode(user));
    } catch (err) {
      failures.push(`${user.username}: ${(err as Error).message.slice(0, 300)}`);
    }
  }
  return { tried: users.length, succeeded: users.length - failures.length, failures };
}

/** What was lost, as sentences; empty when nothing was. */
export function findLosses(result: Omit<NothingLost, 'problems'>, seededAccounts: number): string[] {
  const { before, after } = result;
  const problems: string[] = [];
  if (before.accounts !== seededAccounts || after.accounts !== before.accounts) problems.push(`accounts: ${seededAccounts} seeded, ${before.accounts} before the cuts, ${after.accounts} after`);
  if (after.authenticators !== before.authenticators) problems.push(`authenticator apps: ${before.authenticators} before the cuts, ${after.authenticators} after`);
  if (after.auditEvents < before.auditEvents) problems.push(`audit events went down: ${before.auditEvents} before the cuts, ${after.auditEvents} after`);
  if (after.loginsRecorded < result.successfulLogins) problems.push(`${result.successfulLogins} logins succeeded but only ${after.loginsRecorded} login.succeeded events were recorded`);
  for (const failure of result.signInsAgain.failures) problems.push(`a sysadmin cut off during an outage could not sign in again: ${failure}`);
  return problems;
}
