// oidc-provider configuration: what Twofold supports, its lifetimes, and the hooks into our pages and storage.
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config.js';
import { ACR_VALUES } from './acr.js';
import { ASYMMETRIC_ONLY } from './hashed-client-secrets.js';
import { accountClient } from '../account/account-client.js';
import { createInteractionPolicy, type PolicyDeps } from './interaction-policy.js';
import { loadGrantForFirstParty } from './first-party-grant.js';
import { registrationFeatures } from './registration.js';
import { cookieNames, isHttpsIssuer } from '../http/cookie-names.js';
import { createCookieSigner } from '../http/cookie-signer.js';
import { SESSION_COOKIE_OPTIONS, sessionLifetimes, sessionTtl } from './session-lifetime.js';
import type { ProviderKeys } from './signing-keys.js';

export interface ConfigurationDeps {
  config: Config;
  keys: ProviderKeys;
  adapter: NonNullable<Configuration['adapter']>;
  findAccount: NonNullable<Configuration['findAccount']>;
  renderError: NonNullable<Configuration['renderError']>;
  logoutSource: (ctx: KoaContextWithOIDC, form: string) => Promise<void>;
  postLogoutSuccessSource: (ctx: KoaContextWithOIDC) => Promise<void>;
  /** The policy's dependencies; the session lifetimes come from config. */
  policy: Omit<PolicyDeps, 'session'>;
}

/** oidc-provider's three cookies, named as Twofold names them (prefixed with an https issuer). */
function oidcCookieNames(issuer: string): { session: string; interaction: string; resume: string } {
  const { session, interaction, resume } = cookieNames(isHttpsIssuer(issuer));
  return { session, interaction, resume };
}

/** Builds the oidc-provider Configuration for Twofold. */
export function buildConfiguration(deps: ConfigurationDeps): Configuration {
  const { lifetimes } = deps.config;
  const session = sessionLifetimes(lifetimes);
  return {
    adapter: deps.adapter,
    findAccount: deps.findAccount,
    // The keys as of now; a provider attached to the ring gets every later change (signing-key-ring.ts).
    jwks: deps.keys.signing.jwks(),
    // The only static client: Twofold's own settings pages (every other client lives in Postgres).
    clients: [accountClient(deps.config.issuer)],
    cookies: {
      names: oidcCookieNames(deps.config.issuer),
      keys: createCookieSigner(deps.keys.cookieKeys),
      long: { ...SESSION_COOKIE_OPTIONS },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    acrValues: [...ACR_VALUES],
    claims: {
      acr: null,
      amr: null,
      auth_time: null,
      sid: null,
      // amr and acr in every ID token: relying parties decide on them (RFC 8176, OIDC Core §2).
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    // ID tokens carry the claims of the granted scopes, so a relying party needs no extra userinfo call.
    conformIdTokenClaims: false,
    // Authorization code flow only: no implicit or hybrid response types (RFC 9700 §2.1.2).
    responseTypes: ['code'],
    // PKCE with S256 for every client, public and confidential (RFC 9700 §2.1.1).
    pkce: { required: () => true },
    // Every use of a refresh token rotates it; reusing a rotated one revokes the grant (RFC 9700 §4.14.2).
    rotateRefreshToken: true,
    // An omitted redirect_uri is refused even with a single registered one: matching stays exact and explicit.
    allowOmittingSingleRegisteredRedirectUri: false,
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    // Client secrets are stored hashed (hashed-client-secrets.ts), so none can key an HS* signature.
    enabledJWA: { clientAuthSigningAlgValues: [...ASYMMETRIC_ONLY], requestObjectSigningAlgValues: [...ASYMMETRIC_ONLY] },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    extraClientMetadata: {
      properties: ['first_party'],
      validator(_ctx, key, value) {
        if (key === 'first_party' && value !== undefined && typeof value !== 'boolean') {
          throw new TypeError('first_party must be a boolean');
        }
      },
    },
    features: {
      devInteractions: { enabled: false },
      // A client may introspect or revoke only the tokens issued to itself.
      introspection: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      clientCredentials: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: deps.logoutSource,
        postLogoutSuccessSource: deps.postLogoutSuccessSource,
      },
      // RFC 7591/7592 at /reg, behind single-use initial access tokens; clients are stored in Postgres.
      ...registrationFeatures(),
    },
    ttl: {
      AccessToken: lifetimes.accessToken,
      ClientCredentials: lifetimes.accessToken,
      AuthorizationCode: lifetimes.authorizationCode,
      IdToken: lifetimes.idToken,
      Interaction: lifetimes.interaction,
      // Recomputed at every save: the idle timeout from now, never past the absolute lifetime from the login.
      Session: (_ctx, stored) => sessionTtl(session, stored),
      Grant: lifetimes.grant,
      // Rotation never extends a refresh token past the absolute lifetime of the first one (RFC 9700 §4.14.2).
      RefreshToken(ctx, _token, _client) {
        const rotated = ctx?.oidc?.entities.RotatedRefreshToken;
        return rotated ? rotated.remainingTTL : lifetimes.refreshToken;
      },
    },
    interactions: {
      policy: createInteractionPolicy({ ...deps.policy, session }),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    loadExistingGrant: loadGrantForFirstParty,
    renderError: deps.renderError,
    discovery: {
      claim_types_supported: ['normal'],
      service_documentation: undefined,
    },
  };
}
