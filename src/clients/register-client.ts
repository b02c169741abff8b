// Registers OIDC clients and rotates their secrets; used by the CLI and the admin console.
import { randomBytes } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import type { Queries } from '../storage/queries.js';
import { INFO_URI_FIELDS, validateClientInput, type ClientInput } from './client-input.js';

export interface ClientDeps {
  queries: Pick<Queries, 'clients'>;
  /** oidc-provider's own metadata validation (provider.Client.validate). */
  validateMetadata: (metadata: ClientMetadata) => Promise<void>;
  production: boolean;
}

/** Tells the server's client cache that a client changed (the admin console; the CLI runs without one). */
export type InvalidateClient = (clientId: string) => void;

export type RegisterResult =
  | { status: 'CREATED'; clientId: string; clientSecret: string | undefined }
  | { status: 'INVALID'; problems: string[] };

/**
 * Creates a client id: 128 random bits in lower-case hex. Hex, not base64url: an id that starts with "-" would be
 * read as an option by command lines (twofold clients remove ID).
 */
export function generateClientId(): string {
  return randomBytes(16).toString('hex');
}

/** Creates a client secret: 32 random bytes (≥ 256 bits, OIDC Core §16.19), base64url. */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Builds the oidc-provider metadata for a client from what the administrator gave. */
export function buildClientMetadata(clientId: string, input: ClientInput): ClientMetadata {
  return {
    client_id: clientId,
    client_name: input.name.trim(),
    redirect_uris: input.redirectUris,
    post_logout_redirect_uris: input.postLogoutRedirectUris,
    grant_types: input.grantTypes,
    response_types: input.grantTypes.includes('authorization_code') ? ['code'] : [],
    scope: input.scope,
    token_endpoint_auth_method: input.public ? 'none' : input.authMethod,
    application_type: 'web',
    ...Object.fromEntries(INFO_URI_FIELDS.flatMap((field) => (input.infoUris?.[field] ? [[field, input.infoUris[field]]] : []))),
  };
}

/** Validates and stores a new client; the secret (confidential clients) is returned once and stored encrypted. */
export async function registerClient(deps: ClientDeps, input: ClientInput): Promise<RegisterResult> {
  const problems = validateClientInput(input, { production: deps.production });
  if (problems.length) return { status: 'INVALID', problems };
  // Random ids: clients never choose their own (RFC 9700 §2.6), and ids reveal nothing.
  const clientId = generateClientId();
  const clientSecret = input.public ? undefined : generateClientSecret();
  const metadata = buildClientMetadata(clientId, input);
  try {
    await deps.validateMetadata({ ...metadata, ...(clientSecret ? { client_secret: clientSecret } : {}) });
  } catch (err) {
    const e = err as { error_description?: string; message: string };
    return { status: 'INVALID', problems: [e.error_description ?? e.message] };
  }
  const { client_id: _id, client_name: _name, ...stored } = metadata;
  await deps.queries.clients.create({ clientId, name: input.name.trim(), metadata: stored, clientSecret, firstParty: input.firstParty });
  return { status: 'CREATED', clientId, clientSecret };
}

/** Replaces a confidential client's secret; the new one is returned once. */
export async function rotateClientSecret(
  deps: Pick<ClientDeps, 'queries'> & { invalidate?: InvalidateClient },
  clientId: string,
): Promise<{ status: 'ROTATED'; clientSecret: string } | { status: 'NOT_FOUND' } | { status: 'PUBLIC_CLIENT' }> {
  const client = await deps.queries.clients.findById(clientId);
  if (!client) return { status: 'NOT_FOUND' };
  if (client.metadata['token_endpoint_auth_method'] === 'none') return { status: 'PUBLIC_CLIENT' };
  const clientSecret = generateClientSecret();
  await deps.queries.clients.setSecret(clientId, clientSecret);
  // The old secret must stop working now, not when the cached copy expires.
  deps.invalidate?.(clientId);
  return { status: 'ROTATED', clientSecret };
}
