// Validation of what an administrator types to register a client: names, URIs, grant types.

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];
export const DEFAULT_SCOPE = 'openid profile email offline_access';
/** Pages about the client that users are shown or sent to (consent, logos): they must sit on a redirect host. */
export const INFO_URI_FIELDS = ['client_uri', 'logo_uri', 'policy_uri', 'tos_uri'] as const;
export type InfoUriField = (typeof INFO_URI_FIELDS)[number];
export const INFO_URI_LABELS: Readonly<Record<InfoUriField, string>> = {
  client_uri: 'client URI', logo_uri: 'logo URI', policy_uri: 'policy URI', tos_uri: 'terms of service URI',
};

export interface ClientInput {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  public: boolean;
  firstParty: boolean;
  grantTypes: GrantType[];
  scope: string;
  authMethod: AuthMethod;
  /** Optional pages about the client (client_uri, logo_uri, ...), as given. */
  infoUris?: Partial<Record<InfoUriField, string>> | undefined;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Checks one redirect URI: absolute http(s), no fragment, no wildcard, https unless loopback (or not production). */
export function checkRedirectUri(value: string, options: { production: boolean }): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not an absolute URI (it must start with https://)`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `"${value}" must use https (or http for localhost)`;
  if (value.includes('#')) return `"${value}" must not contain a fragment (#)`;
  if (value.includes('*')) return `"${value}" must not contain a wildcard (*): each URI is matched exactly`;
  if (url.username || url.password) return `"${value}" must not contain a user name or password`;
  // Outside loopback, http would let a network attacker read the authorization code (RFC 9700 §2.6).
  if (url.protocol === 'http:' && options.production && !LOOPBACK.has(url.hostname)) {
    return `"${value}" must use https (http is only allowed for localhost)`;
  }
  return undefined;
}

/**
 * Checks a URI shown to users on the client's behalf: https, and on the host of one of its redirect URIs, so a
 * client cannot borrow another site's logo or policy page to look like it (OIDC Registration §2 and §9.1).
 */
export function checkInfoUri(value: string, redirectUris: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not an absolute URI (it must start with https://)`;
  }
  if (url.protocol !== 'https:') return `"${value}" must use https`;
  if (url.username || url.password) return `"${value}" must not contain a user name or password`;
  const hosts = new Set(redirectUris.flatMap((uri) => (URL.canParse(uri) ? [new URL(uri).hostname] : [])));
  if (!hosts.has(url.hostname)) {
    return hosts.size
      ? `"${value}" must be on the host of a redirect URI (${[...hosts].join(', ')})`
      : `"${value}" must be on the host of a redirect URI, and the client has none`;
  }
  return undefined;
}

/** Validates a client registration; returns every problem at once, each a sentence a person can act on. */
export function validateClientInput(input: ClientInput, options: { production: boolean }): string[] {
  const problems: string[] = [];
  const name = input.name.trim();
  if (!name) problems.push('name: give the client a name');
  else if (name.length > 100) problems.push('name: at most 100 characters');
  const needsRedirect = input.grantTypes.includes('authorization_code');
  if (needsRedirect && input.redirectUris.length === 0) problems.push('redirect URI: give at least one (--redirect-uri)');
  for (const uri of input.redirectUris) {
    const problem = checkRedirectUri(uri, options);
    if (problem) problems.push(`redirect URI: ${problem}`);
  }
  for (const uri of input.postLogoutRedirectUris) {
    const problem = checkRedirectUri(uri, options);
    if (problem) problems.push(`post-logout redirect URI: ${problem}`);
  }
  for (const field of INFO_URI_FIELDS) {
    const value = input.infoUris?.[field];
    const problem = value ? checkInfoUri(value, input.redirectUris) : undefined;
    if (problem) problems.push(`${INFO_URI_LABELS[field]}: ${problem}`);
  }
  if (input.grantTypes.length === 0) problems.push('grant types: give at least one');
  if (input.grantTypes.includes('refresh_token') && !input.grantTypes.includes('authorization_code')) {
    problems.push('grant types: refresh_token needs authorization_code');
  }
  if (input.public && input.grantTypes.includes('client_credentials')) {
    problems.push('grant types: a public client cannot use client_credentials (it has no secret)');
  }
  const scopes = input.scope.split(' ').filter(Boolean);
  const unknown = scopes.filter((scope) => !['openid', 'profile', 'email', 'offline_access'].includes(scope));
  if (unknown.length) problems.push(`scope: unknown ${unknown.join(', ')} (allowed: openid profile email offline_access)`);
  return problems;
}
