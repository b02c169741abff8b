// Queries on the signing_keys table: the provider's signing keys, one row each, the private key encrypted at rest.
import type { Knex } from 'knex';
import type { JWK } from 'oidc-provider';
import type { Cipher } from '../security/encryption.js';
import { isSigningAlg, type SigningAlg } from '../oidc/key-schedule.js';

/** A stored signing key. `jwk` is the private key, with its kid and alg. */
export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  jwk: JWK;
  signFrom: Date;
  createdAt: Date;
}

export type NewSigningKey = Omit<SigningKey, 'createdAt'>;

/** What a change decided: keys to add, kids to delete, and what to return to the caller. */
export interface SigningKeyChange<T> {
  add?: NewSigningKey[];
  remove?: string[];
  result: T;
}

interface SigningKeyRow {
  kid: string;
  alg: string;
  private_jwk_encrypted: string;
  sign_from: Date;
  created_at: Date;
}

// The kid is the encryption context, so a sealed key copied into another row does not decrypt.
const context = (kid: string) => `signing-key:${kid}`;

/** Creates the signing key queries on `knex`, sealing private keys with `cipher`. */
export function createSigningKeyQueries(knex: Knex, cipher: Cipher) {
  /** Every stored key, oldest sign-from time first. */
  async function list(): Promise<SigningKey[]> {
    return readAll(knex);
  }

  /**
   * Runs `decide` on the stored keys and applies its decision, in one transaction that holds the table's lock: two
   * nodes starting at once, or two rotations at once, take turns, so the second sees the first's keys and never
   * adds a second signing key. Plain reads (list) are not blocked. The first change on a database that still has
   * the keys of an older version (one sealed 'jwks' value in provider_keys) moves them here first, unchanged.
   */
  async function change<T>(decide: (current: SigningKey[]) => SigningKeyChange<T> | Promise<SigningKeyChange<T>>): Promise<T> {
    return knex.transaction(async (trx) => {
      await trx.raw('lock table ?? in exclusive mode', ['signing_keys']);
      let current = await readAll(trx);
      if (current.length === 0) current = await moveOlderKeys(trx);
      const decision = await decide(current);
      if (decision.remove?.length) await trx<SigningKeyRow>('signing_keys').whereIn('kid', decision.remove).delete();
      if (decision.add?.length) await trx<SigningKeyRow>('signing_keys').insert(decision.add.map(toRow));
      return decision.result;
    });
  }

  function toRow(key: NewSigningKey) {
    if (key.jwk.kid !== key.kid || key.jwk.alg !== key.alg) throw new Error(`signing key ${key.kid}: its JWK has another kid or alg`);
    return { kid: key.kid, alg: key.alg, private_jwk_encrypted: cipher.encrypt(JSON.stringify(key.jwk), context(key.kid)), sign_from: key.signFrom };
  }

  async function readAll(db: Knex | Knex.Transaction): Promise<SigningKey[]> {
    const rows = await db<SigningKeyRow>('signing_keys').select('*').orderBy([{ column: 'sign_from' }, { column: 'kid' }]);
    return rows.map((row) => {
      const jwk = JSON.parse(cipher.decrypt(row.private_jwk_encrypted, context(row.kid))) as JWK;
      // The row's alg is not sealed; the JWK's is. A row edited to claim another alg is refused, not used.
      if (!isSigningAlg(row.alg) || jwk.alg !== row.alg || jwk.kid !== row.kid) {
        throw new Error(`signing key ${row.kid}: the stored alg (${row.alg}) or kid does not match the sealed key`);
      }
      return { kid: row.kid, alg: row.alg, jwk, signFrom: row.sign_from, createdAt: row.created_at };
    });
  }

  // Older versions kept both keys in one provider_keys row (kind 'jwks', sealed with 'jwks' as context). They keep
  // their kids and sign from the time that row was made, and the row goes, so no copy of the private keys is left.
  async function moveOlderKeys(trx: Knex.Transaction): Promise<SigningKey[]> {
    const row = await trx<{ kind: string; value_encrypted: string; created_at: Date }>('provider_keys').where({ kind: 'jwks' }).first();
    if (!row) return [];
    const { keys } = JSON.parse(cipher.decrypt(row.value_encrypted, 'jwks')) as { keys: JWK[] };
    const moved: SigningKey[] = [];
    for (const jwk of keys) {
      if (typeof jwk.kid !== 'string' || !isSigningAlg(jwk.alg) || moved.some((key) => key.alg === jwk.alg)) continue;
      moved.push({ kid: jwk.kid, alg: jwk.alg, jwk, signFrom: row.created_at, createdAt: row.created_at });
    }
    if (moved.length) await trx('signing_keys').insert(moved.map((key) => ({ ...toRow(key), created_at: key.createdAt })));
    await trx('provider_keys').where({ kind: 'jwks' }).delete();
    return moved;
  }

  return { list, change };
}

export type SigningKeyQueries = ReturnType<typeof createSigningKeyQueries>;
