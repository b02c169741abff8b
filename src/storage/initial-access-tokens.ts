// Queries on initial_access_tokens: the register of tokens issued for dynamic registration, never the tokens.
import type { Knex } from 'knex';

/** Where a token was issued. */
export type IssuedVia = 'console' | 'cli';

/** What became of a token, at the time it is read. */
export type InitialAccessTokenStatus = 'active' | 'used' | 'revoked' | 'expired';

/** One issued token as the register knows it. */
export interface InitialAccessTokenRecord {
  /** The store's key for the token: its base64url SHA-256. */
  id: string;
  /** The first 12 characters of id: what the console, the CLI and the audit log name it by. */
  reference: string;
  issuedAt: Date;
  expiresAt: Date;
  issuedBy: { id: string; username: string } | null;
  via: IssuedVia;
  usedAt: Date | null;
  /** The client it registered. */
  clientId: string | null;
  revokedAt: Date | null;
  status: InitialAccessTokenStatus;
}

interface Row {
  id: string;
  issued_at: Date;
  expires_at: Date;
  issued_by: string | null;
  issued_by_username: string | null;
  via: IssuedVia;
  used_at: Date | null;
  client_id: string | null;
  revoked_at: Date | null;
}

/** The length of a reference: 72 bits of the hash, enough to tell tokens apart and useless as the token. */
export const REFERENCE_LENGTH = 12;

function toRecord(row: Row, now: Date): InitialAccessTokenRecord {
  const status = row.revoked_at ? 'revoked' : row.used_at ? 'used' : row.expires_at <= now ? 'expired' : 'active';
  return {
    id: row.id,
    reference: row.id.slice(0, REFERENCE_LENGTH),
    issuedAt: row.issued_at,
    expiresAt: row.expires_at,
    issuedBy: row.issued_by ? { id: row.issued_by, username: row.issued_by_username ?? '' } : null,
    via: row.via,
    usedAt: row.used_at,
    clientId: row.client_id,
    revokedAt: row.revoked_at,
    status,
  };
}

/** Creates the register's queries on `knex`. */
export function createInitialAccessTokenQueries(knex: Knex) {
  const select = () =>
    knex('initial_access_tokens as t')
      .leftJoin('accounts as a', 'a.id', 't.issued_by')
      .select<Row[]>('t.id', 't.issued_at', 't.expires_at', 't.issued_by', 'a.username as issued_by_username', 't.via', 't.used_at', 't.client_id', 't.revoked_at');

  return {
    /** Records a token just issued; `id` is the store's key for it. */
    async record(token: { id: string; expiresAt: Date; issuedBy: string | null; via: IssuedVia }): Promise<void> {
      await knex('initial_access_tokens').insert({ id: token.id, expires_at: token.expiresAt, issued_by: token.issuedBy, via: token.via });
    },

    /** Tokens issued since `since`, newest first; with `activeOnly`, only those that still work. */
    async list(options: { since: Date; activeOnly?: boolean; limit?: number }): Promise<InitialAccessTokenRecord[]> {
      const now = new Date();
      let query = select().where('t.issued_at', '>=', options.since);
      if (options.activeOnly) query = query.whereNull('t.used_at').whereNull('t.revoked_at').where('t.expires_at', '>', now);
      const rows = await query.orderBy('t.issued_at', 'desc').limit(options.limit ?? 200);
      return rows.map((row) => toRecord(row, now));
    },

    /** The token with this reference (the first 12 characters of its id), if one was recorded. */
    async findByReference(reference: string): Promise<InitialAccessTokenRecord | undefined> {
      // The length is part of the SQL, not a parameter, so that any plan (a generic one too) matches the reference index.
      const row = await select().whereRaw(`left(t.id, ${REFERENCE_LENGTH}) = ?`, [reference]).first();
      return row ? toRecord(row, new Date()) : undefined;
    },

    /** Forgets the tokens issued before `cutoff`, long expired by then; returns how many. The audit log keeps their issue. */
    async forgetIssuedBefore(cutoff: Date): Promise<number> {
      return knex('initial_access_tokens').where('issued_at', '<', cutoff).delete();
    },

    /** Notes that the token registered `clientId`. */
    async markUsed(id: string, clientId: string): Promise<void> {
      await knex('initial_access_tokens').where({ id }).whereNull('used_at').update({ used_at: knex.fn.now(), client_id: clientId });
    },

    /** Notes the revocation of a token that was neither used nor revoked; returns whether it was. */
    async markRevoked(id: string, revokedBy: string | null): Promise<boolean> {
      const changed = await knex('initial_access_tokens').where({ id }).whereNull('used_at').whereNull('revoked_at').update({ revoked_at: knex.fn.now(), revoked_by: revokedBy });
      return changed > 0;
    },
  };
}
