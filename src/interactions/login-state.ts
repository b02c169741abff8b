// The state of one login between its steps (password passed, second factor or setup pending), kept in Redis.
// No session exists until every required factor has passed: a password alone signs nobody in.
import type { Cipher } from '../security/encryption.js';
import type { ShortLivedStore } from '../storage/short-lived/short-lived-store.js';

export type SetupStep = 'install' | 'connect' | 'confirm' | 'email';

export interface LoginState {
  accountId: string;
  /** Epoch seconds when the password was checked (or the session's login time, for a step-up). */
  passwordAt: number;
  /**
   * The authenticator's secret as Postgres stores it (encrypted), read with the account at the password step so
   * the code step needs no read of its own. A code checked against it is accepted only while it is still the
   * stored secret (totp.acceptStep); otherwise the code step reads the stored one.
   */
  totpSealed?: string;
  /** Wrong codes in this login; a handful sends the user back to the password. */
  codeFailures: number;
  /** Set once a back-up code was asked for by email in this login: the page then asks for that code. */
  emailCode?: { requestedAt: number };
  setup?: {
    step: SetupStep;
    /** The pending secret, encrypted; only present on the connect step, never after it is verified. */
    sealedSecret?: string;
    /** Set once the new authenticator was verified: the login then completes with it. */
    connected?: boolean;
  };
}

export interface LoginStateStore {
  load(uid: string): Promise<LoginState | undefined>;
  save(uid: string, state: LoginState): Promise<void>;
  clear(uid: string): Promise<void>;
  sealSecret(uid: string, accountId: string, secret: string): string;
  openSecret(uid: string, accountId: string, sealed: string): string;
}

/** Creates the login-state store; entries live as long as the interaction. */
export function createLoginStateStore(store: ShortLivedStore, cipher: Cipher, ttlSeconds: number): LoginStateStore {
  const key = (uid: string) => `login:${uid}`;
  // The pending secret is bound to this login and account: a sealed value copied elsewhere does not open.
  const context = (uid: string, accountId: string) => `totp-pending:${accountId}:${uid}`;
  return {
    load: (uid) => store.getJson<LoginState>(key(uid)),
    save: (uid, state) => store.setJson(key(uid), state, ttlSeconds),
    clear: async (uid) => {
      await store.remove(key(uid));
    },
    sealSecret: (uid, accountId, secret) => cipher.encrypt(secret, context(uid, accountId)),
    openSecret: (uid, accountId, sealed) => cipher.decrypt(sealed, context(uid, accountId)),
  };
}
