// The client form of the admin console: its fields read into a ClientInput, and a stored client read into its fields.
import type { Client } from '../storage/queries.js';
import { DEFAULT_SCOPE, GRANT_TYPES, INFO_URI_FIELDS, type ClientInput, type GrantType, type InfoUriField } from './client-input.js';

/** What the form shows: the text as typed, so a refused form comes back unchanged. */
export interface ClientFormValues {
  name: string;
  redirectUris: string;
  postLogoutRedirectUris: string;
  type: 'confidential' | 'public';
  firstParty: boolean;
  grantTypes: GrantType[];
  scope: string;
  infoUris: Partial<Record<InfoUriField, string>>;
}

/** The values of an empty form. */
export function newClientForm(): ClientFormValues {
  return {
    name: '', redirectUris: '', postLogoutRedirectUris: '', type: 'confidential', firstParty: false,
    grantTypes: ['authorization_code', 'refresh_token'], scope: DEFAULT_SCOPE, infoUris: {},
  };
}

/** Reads the posted form (one checkbox per grant type, named grant_<type>; URIs one per line). */
export function readClientForm(body: Record<string, unknown>): ClientFormValues {
  const text = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : '');
  const infoUris: Partial<Record<InfoUriField, string>> = {};
  for (const field of INFO_URI_FIELDS) if (text(field).trim()) infoUris[field] = text(field).trim();
  return {
    name: text('name'),
    redirectUris: text('redirect_uris'),
    postLogoutRedirectUris: text('post_logout_redirect_uris'),
    type: text('type') === 'public' ? 'public' : 'confidential',
    firstParty: text('first_party') === 'yes',
    grantTypes: GRANT_TYPES.filter((grant) => text(`grant_${grant}`) === 'yes'),
    scope: text('scope').trim().replace(/\s+/g, ' '),
    infoUris,
  };
}

/** The registration the form asks for (console clients authenticate with client_secret_basic). */
export function toClientInput(form: ClientFormValues): ClientInput {
  return {
    name: form.name,
    redirectUris: lines(form.redirectUris),
    postLogoutRedirectUris: lines(form.postLogoutRedirectUris),
    public: form.type === 'public',
    firstParty: form.firstParty,
    grantTypes: form.grantTypes,
    scope: form.scope,
    authMethod: 'client_secret_basic',
    infoUris: form.infoUris,
  };
}

/** The form values of a stored client, for its edit page. */
export function clientFormValues(client: Client): ClientFormValues {
  const m = client.metadata;
  const infoUris: Partial<Record<InfoUriField, string>> = {};
  for (const field of INFO_URI_FIELDS) if (typeof m[field] === 'string') infoUris[field] = m[field] as string;
  return {
    name: client.name,
    redirectUris: stringList(m['redirect_uris']).join('\n'),
    postLogoutRedirectUris: stringList(m['post_logout_redirect_uris']).join('\n'),
    type: m['token_endpoint_auth_method'] === 'none' ? 'public' : 'confidential',
    firstParty: client.firstParty,
    grantTypes: GRANT_TYPES.filter((grant) => stringList(m['grant_types'] ?? ['authorization_code']).includes(grant)),
    scope: typeof m['scope'] === 'string' ? m['scope'] : DEFAULT_SCOPE,
    infoUris,
  };
}

/** The strings of a metadata list (redirect_uris, grant_types), ignoring anything else. */
export function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function lines(text: string): string[] {
  return text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
}
