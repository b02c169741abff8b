// Queries on the provider_keys table: key material generated once, shared by every instance, encrypted at rest.
import type { Knex } from 'knex';
import type { Cipher } from '../security/encryption.js';

interface ProviderKeyRow {
  kind: string;
  value_encrypted: string;
  created_at: Date;
}

/** Creates the provider key queries on `knex`, sealing values with `cipher`. */
export function createProviderKeyQueries(knex: Knex, cipher: Cipher) {
  const keys = () => knex<ProviderKeyRow>('provider_keys');

  /** The stored value of `kind`; if there is none yet, stores `create()`'s. Instances starting together all get the same value. */
  async function loadOrCreate<T>(kind: string, create: () => T | Promise<T>): Promise<T> {
    const existing = await read<T>(kind);
    if (existing !== undefined) return existing.value;
    const candidate = await create();
    // The kind is the encryption context, so a value copied to another kind's row does not decrypt.
    const sealed = cipher.encrypt(JSON.stringify(candidate), kind);
    // First writer wins; everyone (the winner too) then uses the stored value, so two instances starting
    // at once never sign with different keys.
    await keys().insert({ kind, value_encrypted: sealed }).onConflict('kind').ignore();
    const stored = await read<T>(kind);
    if (stored === undefined) throw new Error(`provider key "${kind}" vanished right after it was stored`);
    return stored.value;
  }

  async function read<T>(kind: string): Promise<{ value: T } | undefined> {
    const row = await keys().where({ kind }).first();
    return row && { value: JSON.parse(cipher.decrypt(row.value_encrypted, kind)) as T };
  }

  return { loadOrCreate };
}

export type ProviderKeyQueries = ReturnType<typeof createProviderKeyQueries>;
