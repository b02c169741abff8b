// oidc-provider reads an access token or code, then the session it is bound to, then its grant, each read waiting for
// the one before (three Redis round trips at the token exchange and at userinfo). The adapter reads all three at once
// (findModelWithRelated) and keeps the two it was not asked for here, for the rest of the same request:
// oidc-provider's next reads of them are answered from this, once each, and any later read goes to the store again.
import Provider from 'oidc-provider';
import type { ReadAhead } from '../storage/oidc-adapter.js';
import type { ModelPayload } from '../storage/short-lived/short-lived-store.js';

const READ_AHEAD = Symbol('entries read ahead');

type WithReadAhead = { [READ_AHEAD]?: Map<string, ModelPayload | undefined> };

/** Entries read ahead within the current oidc-provider request, by model and key; nothing outside a request. */
export const readAheadWithinRequest: ReadAhead = {
  /** Keeps what was read for `model` under `key`, when there is a request to keep it for. */
  keep(model: string, key: string, payload: ModelPayload | undefined): void {
    const ctx = Provider.ctx as WithReadAhead | undefined;
    if (!ctx) return;
    (ctx[READ_AHEAD] ??= new Map()).set(`${model}\u0000${key}`, payload);
  },
  /** What was kept for `model` under `key` in this request, given out once: `found` is false when nothing was. */
  take(model: string, key: string): { found: true; payload: ModelPayload | undefined } | { found: false } {
    const kept = (Provider.ctx as WithReadAhead | undefined)?.[READ_AHEAD];
    const name = `${model}\u0000${key}`;
    if (!kept?.has(name)) return { found: false };
    const payload = kept.get(name);
    kept.delete(name);
    return { found: true, payload };
  },
  forget(model: string): void {
    const kept = (Provider.ctx as WithReadAhead | undefined)?.[READ_AHEAD];
    if (!kept) return;
    for (const name of kept.keys()) if (name.startsWith(`${model}\u0000`)) kept.delete(name);
  },
  /** Whether a request is under way to keep entries for. */
  active(): boolean {
    return Provider.ctx !== undefined;
  },
};
