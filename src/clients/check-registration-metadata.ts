// The rules a dynamically registered client must meet, on top of oidc-provider's own validation (RFC 9700 §2.6, OIDC Registration §9.1).
import { checkInfoUri, checkRedirectUri, GRANT_TYPES, INFO_URI_FIELDS } from './client-input.js';

/** The registration policy that applies these rules: every initial access token Twofold issues carries it. */
export const REGISTRATION_POLICY = 'twofold-client-rules';

/**
 * Returns why dynamic client metadata is refused, as "<field>: <reason>" (oidc-provider answers a reason that
 * starts with "redirect_uris" with invalid_redirect_uri, any other with invalid_client_metadata), or undefined.
 * The production rules always apply: whoever holds an initial access token is not an administrator, so http
 * redirect URIs are refused outside loopback even in development.
 */
export function checkRegistrationMetadata(metadata: Record<string, unknown>): string | undefined {
  const redirectUris = strings(metadata['redirect_uris']);
  for (const uri of redirectUris) {
    const problem = checkRedirectUri(uri, { production: true });
    if (problem) return `redirect_uris: ${problem}`;
  }
  for (const uri of strings(metadata['post_logout_redirect_uris'])) {
    const problem = checkRedirectUri(uri, { production: true });
    if (problem) return `post_logout_redirect_uris: ${problem}`;
  }
  for (const field of INFO_URI_FIELDS) {
    const value = metadata[field];
    const problem = typeof value === 'string' ? checkInfoUri(value, redirectUris) : undefined;
    if (problem) return `${field}: ${problem}`;
  }
  const grantTypes = strings(metadata['grant_types']);
  const unsupported = grantTypes.filter((grant) => !(GRANT_TYPES as readonly string[]).includes(grant));
  if (unsupported.length) return `grant_types: ${unsupported.join(', ')} not supported (allowed: ${GRANT_TYPES.join(', ')})`;
  if (metadata['token_endpoint_auth_method'] === 'none' && grantTypes.includes('client_credentials')) {
    return 'grant_types: a public client (token_endpoint_auth_method none) cannot use client_credentials';
  }
  return undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
