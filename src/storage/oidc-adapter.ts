// The oidc-provider adapter: every model on the short-lived store, except clients, which can come from Postgres.
import { errors, type Adapter, type AdapterConstructor, type AdapterPayload, type ClientMetadata } from 'oidc-provider';
import type { ModelPayload, ShortLivedStore } from './short-lived/short-lived-store.js';

/** Looks a client up by client_id in its own storage (Postgres). */
export type ClientFinder = (id: string) => Promise<ClientMetadata | undefined>;

/** Options of createOidcAdapter. */
export interface OidcAdapterOptions {
  /** When given, the Client model reads from it and refuses writes. */
  clientFinder?: ClientFinder | undefined;
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

function toAdapterPayload(payload: ModelPayload | undefined): AdapterPayload | undefined {
  return payload === undefined ? undefined : { ...payload };
}

function refuseClientWrite(): never {
  throw new Error('Clients are stored in Postgres: change them with the admin pages or the CLI, not through oidc-provider');
}

/** Creates the Adapter class to give oidc-provider as `adapter`, one instance per model name. */
export function createOidcAdapter(store: ShortLivedStore, options: OidcAdapterOptions = {}): AdapterConstructor {
  const { clientFinder } = options;

  return class ShortLivedAdapter implements Adapter {
    readonly name: string;
    readonly #clientsFromFinder: boolean;

    constructor(name: string) {
      this.name = name;
      this.#clientsFromFinder = name === 'Client' && clientFinder !== undefined;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (this.#clientsFromFinder) refuseClientWrite();
      await store.upsertModel(this.name, id, payload, {
        expiresIn,
        grantId: GRANTABLE.has(this.name) ? payload.grantId : undefined,
        uid: this.name === 'Session' ? payload.uid : undefined,
        userCode: payload.userCode,
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.#clientsFromFinder && clientFinder) return clientFinder(id);
      return toAdapterPayload(await store.findModel(this.name, id));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return toAdapterPayload(await store.findModelByUid(this.name, uid));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return toAdapterPayload(await store.findModelByUserCode(this.name, userCode));
    }

    async consume(id: string): Promise<void> {
      // Atomic in the store so that two concurrent redemptions of one authorization code or refresh token
      // cannot both pass oidc-provider's "already consumed?" check: the loser is refused here (replay).
      const result = await store.consumeModel(this.name, id);
      if (result === 'consumed') return;
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
      if (this.#clientsFromFinder) refuseClientWrite();
      await store.destroyModel(this.name, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      // Revoking a grant (logout, refresh token reuse, revocation endpoint) must remove every token issued
      // under it, across models, in one atomic step, so none survives the revocation.
      await store.revokeByGrantId(grantId);
    }
  };
}
