// Changes a registered client (admin console): the same rules as registration; the secret and the type are kept.
import { AUTH_METHODS, INFO_URI_FIELDS, validateClientInput, type AuthMethod, type ClientInput } from './client-input.js';
import { buildClientMetadata, type ClientDeps, type InvalidateClient } from './register-client.js';

export type UpdateResult =
  | { status: 'UPDATED'; changed: string[] }
  | { status: 'NOT_FOUND' }
  | { status: 'INVALID'; problems: string[] };

/**
 * Validates and stores a client's new registration, then makes the server forget the old one, so a removed
 * redirect URI is refused from the next request on. Whether it is public, and how it authenticates, stay as
 * registered: turning a confidential client public would silently drop its authentication.
 */
export async function updateClient(deps: ClientDeps & { invalidate: InvalidateClient }, clientId: string, input: ClientInput): Promise<UpdateResult> {
  const existing = await deps.queries.clients.findById(clientId);
  if (!existing) return { status: 'NOT_FOUND' };
  const authMethod = existing.metadata['token_endpoint_auth_method'];
  const kept: ClientInput = {
    ...input,
    public: authMethod === 'none',
    authMethod: AUTH_METHODS.includes(authMethod as AuthMethod) ? (authMethod as AuthMethod) : 'client_secret_basic',
  };
  const problems = validateClientInput(kept, { production: deps.production });
  if (problems.length) return { status: 'INVALID', problems };

  // Metadata the form does not show (e.g. a dynamic client's jwks or auth method) is kept as it was.
  const metadata: Record<string, unknown> = { ...existing.metadata, ...buildClientMetadata(clientId, kept) };
  if (typeof authMethod === 'string') metadata['token_endpoint_auth_method'] = authMethod;
  for (const field of INFO_URI_FIELDS) if (!kept.infoUris?.[field]) delete metadata[field];
  try {
    await deps.validateMetadata({ ...metadata, client_id: clientId, ...(existing.secretHash ? { client_secret: existing.secretHash } : {}) });
  } catch (err) {
    const e = err as { error_description?: string; message: string };
    return { status: 'INVALID', problems: [e.error_description ?? e.message] };
  }
  const { client_id: _id, client_name: _name, ...stored } = metadata;
  const name = kept.name.trim();
  await deps.queries.clients.update(clientId, { name, metadata: stored, firstParty: kept.firstParty });
  deps.invalidate(clientId);
  return { status: 'UPDATED', changed: changedFields(existing, { name, metadata: stored, firstParty: kept.firstParty }) };
}

/** Which fields an update changed, for the audit record (names only, never values). */
function changedFields(before: { name: string; metadata: Record<string, unknown>; firstParty: boolean }, after: typeof before): string[] {
  const changed = new Set<string>();
  if (before.name !== after.name) changed.add('client_name');
  if (before.firstParty !== after.firstParty) changed.add('first_party');
  for (const key of new Set([...Object.keys(before.metadata), ...Object.keys(after.metadata)])) {
    if (JSON.stringify(before.metadata[key]) !== JSON.stringify(after.metadata[key])) changed.add(key);
  }
  return [...changed].sort();
}
