// The oidc-provider adapter: every model on the short-lived store, except clients, which can come from Postgres.
import { errors, type Adapter, type AdapterConstructor, type AdapterPayload, type ClientMetadata } from 'oidc-provider';
import { hashedModelId } from './hashed-model-id.js';
import type { ModelPayload, ShortLivedStore } from './short-lived/short-lived-store.js';

/** Looks a client up by client_id in its own storage (Postgres). */
export type ClientFinder = (id: string) => Promise<ClientMetadata | undefined>;

/** Stores and deletes clients in their own storage (dynamic registration, RFC 7591/7592). */
export interface ClientWriter {
  upsert(id: string, metadata: ClientMetadata): Promise<void>;
  destroy(id: string): Promise<void>;
}

/** Options of createOidcAdapter. */
export interface OidcAdapterOptions {
  /** When given, the Client model reads from it, and refuses writes unless a clientWriter is given too. */
  clientFinder?: ClientFinder | undefined;
  clientWriter?: ClientWriter | undefined;
  /** Runs each save and deletion of a short-lived model (writeWithinRequest); by default each is simply awaited. */
  write?: ((write: () => Promise<void>) => Promise<void>) | undefined;
  /** Keeps a token's Grant and Session, read with it, for oidc-provider's next reads (readAheadWithinRequest). */
  readAhead?: ReadAhead | undefined;
}

/** Entries read before oidc-provider asks for them, kept for the request under way; see src/oidc/request-reads.ts. */
export interface ReadAhead {
  /** Whether there is a request to keep entries for: outside one, nothing is read ahead. */
  active(): boolean;
  keep(model: string, key: string, payload: ModelPayload | undefined): void;
  /** What was kept, given out once; `found` is false when nothing was. */
  take(model: string, key: string): { found: true; payload: ModelPayload | undefined } | { found: false };
  /** Drops everything kept for `model`. */
  forget(model: string): void;
}

// Models whose entries are indexed by grantId, so revoking a grant removes them (oidc-provider's own list).
const GRANTABLE = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);

// How oidc-provider names the single-use models in its errors.
const CONSUMABLE_LABELS: Readonly<Record<string, string>> = {
  AuthorizationCode: 'authorization code',
  RefreshToken: 'refresh token',
  DeviceCode: 'device code',
  BackchannelAuthenticationRequest: 'backchannel authentication request',
  PreAuthorizedCode: 'pre-authorized code',
};

// Entries that name a grant and may expire with a session: read with their Grant and Session (oidc-provider reads
// those right after them), one round trip instead of up to three. Not refresh tokens: they outlive the session
// (offline_access), so only the grant's read would be saved, and the script costs Redis about what that saves (two
// servers under the same refresh load measured no gain).
const READ_WITH_RELATED = new Set(['AccessToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest']);

// Bearer credentials that are looked up only by their value: they are stored under a SHA-256 of it, without the
// value (jti) in the payload, so a copy of Redis (a backup, a replica, a dump) gives no working token.
const HASHED = new Set(['InitialAccessToken', 'RegistrationAccessToken']);

function toAdapterPayload(payload: ModelPayload | undefined): AdapterPayload | undefined {
  return payload === undefined ? undefined : { ...payload };
}

function refuseClientWrite(): never {
  throw new Error('Clients are stored in Postgres: change them with the admin pages or the CLI, not through oidc-provider');
}

/** Creates the Adapter class to give oidc-provider as `adapter`, one instance per model name. */
export function createOidcAdapter(store: ShortLivedStore, options: OidcAdapterOptions = {}): AdapterConstructor {
  const { clientFinder, clientWriter } = options;
  const write = options.write ?? ((run: () => Promise<void>) => run());
  const { readAhead } = options;

  return class ShortLivedAdapter implements Adapter {
    readonly name: string;
    readonly #clientsFromFinder: boolean;
    readonly #hashed: boolean;

    constructor(name: string) {
      this.name = name;
      this.#clientsFromFinder = name === 'Client' && clientFinder !== undefined;
      this.#hashed = HASHED.has(name);
    }

    /** Drops what was read ahead of an entry this request changes: a later read in the request must see the change. */
    #forget(id: string): void {
      // Only grants (by id) and sessions (by uid: a deletion, by id alone, drops every one kept) are ever kept.
      if (this.name === 'Grant') readAhead?.take('Grant', id);
      else if (this.name === 'Session') readAhead?.forget('Session:uid');
    }

    /** The id an entry is stored under: the id itself, or its hash for the bearer credentials above. */
    #key(id: string): string {
      return this.#hashed ? hashedModelId(id) : id;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (this.#clientsFromFinder) {
        if (!clientWriter) refuseClientWrite();
        return clientWriter.upsert(id, payload as ClientMetadata);
      }
      const { jti: _value, ...withoutValue } = payload;
      this.#forget(id);
      return write(() => store.upsertModel(this.name, this.#key(id), this.#hashed ? withoutValue : payload, {
        expiresIn,
        grantId: GRANTABLE.has(this.name) ? payload.grantId : undefined,
        uid: this.name === 'Session' ? payload.uid : undefined,
        userCode: payload.userCode,
        // Deleting a client revokes its grants (and so every token issued under them) through this index.
        clientId: this.name === 'Grant' ? payload.clientId : undefined,
        // A change to the account's second factor or status ends its sessions and revokes its grants through this index.
        accountId: this.name === 'Session' || this.name === 'Grant' ? payload.accountId : undefined,
      }));
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.#clientsFromFinder && clientFinder) return clientFinder(id);
      if (readAhead && this.name === 'Grant') {
        const kept = readAhead.take('Grant', id);
        if (kept.found) return toAdapterPayload(kept.payload);
      } else if (readAhead && READ_WITH_RELATED.has(this.name) && readAhead.active()) {
        const found = await store.findModelWithRelated(this.name, id);
        if (found?.grant) readAhead.keep('Grant', found.grant.id, found.grant.payload);
        if (found?.session) readAhead.keep('Session:uid', found.session.uid, found.session.payload);
        return toAdapterPayload(found?.payload);
      }
      const payload = toAdapterPayload(await store.findModel(this.name, this.#key(id)));
      // The presented value is the jti: give it back, as oidc-provider expects it in the payload.
      return payload && this.#hashed ? { ...payload, jti: id } : payload;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const kept = this.name === 'Session' ? readAhead?.take('Session:uid', uid) : undefined;
      if (kept?.found) return toAdapterPayload(kept.payload);
      return toAdapterPayload(await store.findModelByUid(this.name, uid));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return toAdapterPayload(await store.findModelByUserCode(this.name, userCode));
    }

    async consume(id: string): Promise<void> {
      // Atomic in the store so that two concurrent redemptions of one authorization code or refresh token
      // cannot both pass oidc-provider's "already consumed?" check: the loser is refused here (replay).
      const result = await store.consumeModel(this.name, this.#key(id));
      if (result === 'consumed') return;
      // Consumed by the registration policy: of two registrations racing with one token, only one gets a client.
      if (this.name === 'InitialAccessToken') throw new errors.InvalidToken('initial access token already used');
      const label = CONSUMABLE_LABELS[this.name];
      if (label === undefined) {
        // PushedAuthorizationRequest, consumed at the authorization endpoint: a request_uri is single use.
        throw new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
      }
      if (result === 'already-consumed') {
        // RFC 6749 §4.1.2: a code used twice must be refused, and tokens issued from it should be revoked.
        const stored = await store.findModel(this.name, id);
        if (typeof stored?.grantId === 'string') await store.revokeByGrantId(stored.grantId);
        throw new errors.InvalidGrant(`${label} already consumed`);
      }
      // Gone between oidc-provider's find and this consume (expired, or revoked meanwhile): issue nothing.
      throw new errors.InvalidGrant(`${label} not found`);
    }

    async destroy(id: string): Promise<void> {
      if (this.#clientsFromFinder) {
        if (!clientWriter) refuseClientWrite();
        return clientWriter.destroy(id);
      }
      this.#forget(id);
      return write(() => store.destroyModel(this.name, this.#key(id)));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      // Revoking a grant (logout, refresh token reuse, revocation endpoint) must remove every token issued
      // under it, across models, in one atomic step, so none survives the revocation.
      readAhead?.take('Grant', grantId);
      await store.revokeByGrantId(grantId);
    }
  };
}
