// `twofold clients ...`: register and list OIDC clients; removing them and rotating secrets are in client-changes.ts,
// initial access tokens (issue, list, revoke) in client-token.ts.
import type { ClientMetadata } from 'oidc-provider';
import { AUTH_METHODS, DEFAULT_SCOPE, GRANT_TYPES, validateClientInput, type AuthMethod, type ClientInput, type GrantType } from '../../clients/client-input.js';
import { registerClient } from '../../clients/register-client.js';
import { auditClientChange, removeClient, rotateSecret } from './client-changes.js';
import { issueToken, listTokens, revokeToken } from './client-token.js';
import type { Config } from '../../config.js';
import type { Logger } from '../../logger.js';
import type { ClientSummary, Queries } from '../../storage/queries.js';
import { defineCommand, defineCommandGroup, OK, userError, withStorage, type CliStorage, type CommandResult } from '../command.js';
import { formatDate, formatTable, printJson, type Output } from '../output.js';

export interface ClientsDeps {
  output: Output;
  getLogger(): Logger;
  /** The configuration, read on demand (throws ConfigError). */
  loadConfig(): Config;
  openStorage(): Promise<CliStorage>;
  createMetadataValidator(deps: { config: Config; queries: Queries }): Promise<(metadata: ClientMetadata) => Promise<void>>;
}

export const CLIENTS_HELP = `Usage: twofold clients <command>

Commands:
  add --name N --redirect-uri URI [options]   register a client; prints its client_id (and secret, once)
  list [--json]                               list every client (never secrets)
  remove CLIENT_ID                            delete a client
  rotate-secret CLIENT_ID [--json]            replace a confidential client's secret; prints the new one, once
  token [--expires 24h] [--json]              issue an initial access token for dynamic registration (needs REDIS_URL)
  tokens [--all] [--json]                     list the initial access tokens that still work (--all: and the others)
  revoke-token REFERENCE                      revoke an unused initial access token (needs REDIS_URL)

Run twofold clients <command> --help for details.`;

const ADD_HELP = `Usage: twofold clients add --name N --redirect-uri URI [options]

  --name N                          the name users see on the consent page
  --redirect-uri URI                an exact https redirect URI (http only for localhost); repeatable
  --post-logout-redirect-uri URI    where to return after logout; repeatable
  --public                          a public client (browser or native app): no secret, PKCE only
  --first-party                     the organisation's own application: users are not asked for consent
  --grant-type T                    ${GRANT_TYPES.join(', ')}; repeatable
                                    (default: authorization_code and refresh_token)
  --scope "S ..."                   allowed scopes (default: "${DEFAULT_SCOPE}")
  --auth-method M                   ${AUTH_METHODS.join(' or ')} (confidential clients; default: client_secret_basic)
  --json                            print only {"client_id": ..., "client_secret": ...}`;

const addClient = defineCommand({
  name: 'clients add',
  usage: ADD_HELP,
  options: {
    name: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true, default: [] },
    'post-logout-redirect-uri': { type: 'string', multiple: true, default: [] },
    public: { type: 'boolean', default: false },
    'first-party': { type: 'boolean', default: false },
    'grant-type': { type: 'string', multiple: true },
    scope: { type: 'string', default: DEFAULT_SCOPE },
    'auth-method': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
}, async ({ values }, deps: ClientsDeps) => {
  // Problems the shared validation cannot see (it takes typed values), listed together with its own.
  const problems: string[] = [];
  if (values.name === undefined) problems.push('name: give the client a name (--name)');
  const grantTypes = values['grant-type'] ?? ['authorization_code', 'refresh_token'];
  for (const grant of grantTypes.filter((g) => !isGrantType(g))) {
    problems.push(`grant type: unknown "${grant}" (allowed: ${GRANT_TYPES.join(', ')})`);
  }
  const authMethod = values['auth-method'] ?? 'client_secret_basic';
  if (!isAuthMethod(authMethod)) problems.push(`auth method: unknown "${authMethod}" (allowed: ${AUTH_METHODS.join(', ')})`);
  if (values.public && values['auth-method'] !== undefined) {
    problems.push('auth method: a public client has no secret to authenticate with; drop --auth-method or --public');
  }
  const input: ClientInput = {
    name: values.name ?? '',
    redirectUris: values['redirect-uri'],
    postLogoutRedirectUris: values['post-logout-redirect-uri'],
    public: values.public,
    firstParty: values['first-party'],
    grantTypes: grantTypes.filter(isGrantType),
    scope: values.scope.trim().replace(/\s+/g, ' '),
    authMethod: isAuthMethod(authMethod) ? authMethod : 'client_secret_basic',
  };
  const config = deps.loadConfig();
  const production = config.nodeEnv === 'production';
  // Without these filters an omitted --name or an unknown grant type would be reported twice.
  const unknownGrant = input.grantTypes.length < grantTypes.length;
  problems.push(...validateClientInput(input, { production }).filter((p) =>
    !(values.name === undefined && p.startsWith('name:')) && !(unknownGrant && p === 'grant types: give at least one')));
  if (problems.length) return invalid(problems);

  const result = await withStorage(deps.openStorage, async ({ queries }) => {
    const validateMetadata = await deps.createMetadataValidator({ config, queries });
    const registered = await registerClient({ queries, validateMetadata, production }, input);
    if (registered.status === 'CREATED') {
      await auditClientChange(deps, queries, 'client.created', registered.clientId, { name: input.name.trim(), type: input.public ? 'public' : 'confidential', firstParty: input.firstParty });
    }
    return registered;
  });
  if (result.status === 'INVALID') return invalid(result.problems);

  if (values.json) {
    printJson(deps.output, { client_id: result.clientId, client_secret: result.clientSecret ?? null });
    return OK;
  }
  deps.output.out(`Registered ${input.public ? 'public' : 'confidential'} client "${input.name.trim()}".`);
  deps.output.out(`client_id:     ${result.clientId}`);
  if (result.clientSecret) {
    deps.output.out(`client_secret: ${result.clientSecret}`);
    deps.output.err('The client secret is shown only once: store it now. (twofold clients rotate-secret makes a new one.)');
  } else {
    deps.output.err('A public client has no secret: it must use PKCE (S256).');
  }
  return OK;
});

const listClients = defineCommand({
  name: 'clients list',
  usage: 'Usage: twofold clients list [--json]\n\n  Lists every client, without secrets.\n  --json   print a JSON array',
  options: { json: { type: 'boolean', default: false } },
}, async ({ values }, deps: ClientsDeps) => {
  const clients = await withStorage(deps.openStorage, ({ queries }) => queries.clients.list());
  if (values.json) printJson(deps.output, clients.map(toJson));
  else if (clients.length === 0) deps.output.err('No clients yet; register one with: twofold clients add --name N --redirect-uri URI');
  else {
    deps.output.out(formatTable(
      ['CLIENT_ID', 'NAME', 'TYPE', 'FIRST-PARTY', 'REDIRECT URIS', 'CREATED'],
      clients.map((c) => [
        c.clientId, c.name, clientType(c), c.firstParty ? 'yes' : 'no',
        stringList(c.metadata['redirect_uris']).join(' '), formatDate(c.createdAt),
      ]),
    ));
  }
  return OK;
});

/** Runs `twofold clients <command> ...`. */
export const runClientsCommand = defineCommandGroup({
  name: 'clients',
  usage: CLIENTS_HELP,
  commands: { add: addClient, list: listClients, remove: removeClient, 'rotate-secret': rotateSecret, token: issueToken, tokens: listTokens, 'revoke-token': revokeToken },
});

function invalid(problems: string[]): CommandResult {
  return userError(`twofold clients add: the client was not registered:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

function isGrantType(value: string): value is GrantType {
  return (GRANT_TYPES as readonly string[]).includes(value);
}

function isAuthMethod(value: string): value is AuthMethod {
  return (AUTH_METHODS as readonly string[]).includes(value);
}

function clientType(client: ClientSummary): 'public' | 'confidential' {
  return client.metadata['token_endpoint_auth_method'] === 'none' ? 'public' : 'confidential';
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function toJson(client: ClientSummary) {
  const m = client.metadata;
  return {
    client_id: client.clientId,
    name: client.name,
    type: clientType(client),
    first_party: client.firstParty,
    redirect_uris: stringList(m['redirect_uris']),
    post_logout_redirect_uris: stringList(m['post_logout_redirect_uris']),
    grant_types: stringList(m['grant_types']),
    scope: m['scope'],
    token_endpoint_auth_method: m['token_endpoint_auth_method'],
    created_at: client.createdAt.toISOString(),
  };
}
