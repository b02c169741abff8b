// Tells this process's caches that an account (or its second factor) changed, right after the change is stored.

/** Listeners for changes made through this process's account and TOTP queries. */
export interface AccountChanges {
  /** Called by the queries after a change to the account with this id is stored. */
  announce(accountId: string): void;
  /** Registers a listener (e.g. a cache that must forget the account); returns a function that removes it. */
  listen(listener: (accountId: string) => void): () => void;
}

/** Creates the registry the account and TOTP queries announce their changes to. */
export function createAccountChanges(): AccountChanges {
  const listeners = new Set<(accountId: string) => void>();
  return {
    announce(accountId) {
      for (const listener of listeners) listener(accountId);
    },
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
