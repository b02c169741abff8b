// The one place that reaches into oidc-provider's internals: replacing the keys of a running provider.
//
// Why: oidc-provider reads its keys once, in the Provider constructor (configuration.jwks becomes an internal keystore
// and the JWKS served at /jwks), and has no public way to change them later. Rotating keys on running nodes without a
// restart needs exactly that. So this file calls again the function the constructor calls for it,
// lib/helpers/initialize_keystore.js, with `this` = the provider: it checks the keys as at construction, then swaps
// the keystore (what signs and verifies) and the published JWKS at once. The library picks the first key of an alg
// whose key_ops (if any) allow the operation, which is what signing-key-ring.ts relies on.
// test/unit/replace-provider-keys.test.ts fails if a new version of the library moves or changes any of this.
import type Provider from 'oidc-provider';
import type { JWK } from 'oidc-provider';
// @ts-expect-error -- internal file of the library, which ships no types for it
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js';

const initialize = initializeKeystore as (this: Provider, jwks: { keys: JWK[] }) => void;

/**
 * Makes `provider` sign, verify and publish with `jwks` (private keys), as if it had been constructed with them.
 * An invalid set throws and leaves the provider's keys as they were.
 */
export function replaceProviderKeys(provider: Provider, jwks: { keys: JWK[] }): void {
  initialize.call(provider, jwks);
}
