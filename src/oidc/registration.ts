// Dynamic client registration (RFC 7591) and management (RFC 7592): who may register, what is accepted, what is recorded.
import { generateClientId } from '../clients/register-client.js';
import { randomBytes } from 'node:crypto';
import type Provider from 'oidc-provider';
import { errors, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { checkRegistrationMetadata, REGISTRATION_POLICY } from '../clients/check-registration-metadata.js';
import { generateClientSecret } from '../clients/register-client.js';
import { tokenReference } from '../clients/issue-initial-access-token.js';
import { hashedModelId } from '../storage/hashed-model-id.js';
import type { Queries } from '../storage/queries.js';
import type { Logger } from '../logger.js';
import { requestOrigin, type AuditEventName, type AuditLog } from '../security/audit.js';

type Features = NonNullable<Configuration['features']>;

/** The registration features of the Provider configuration. */
export function registrationFeatures(): Pick<Features, 'registration' | 'registrationManagement'> {
  return {
    registration: {
      enabled: true,
      // Only holders of an initial access token issued by an administrator may register (OIDC Registration §3, RFC 7591 §3).
      initialAccessToken: true,
      // Random ids, never the client's choice (RFC 9700 §2.6), and 32-byte secrets (OIDC Core §16.19), as in the console.
      idFactory: () => generateClientId(),
      secretFactory: () => generateClientSecret(),
      policies: { [REGISTRATION_POLICY]: enforceClientRules },
    },
    registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
  };
}

/**
 * Runs before oidc-provider stores a registration (POST) or an update (PUT): Twofold's rules for client metadata,
 * oidc-provider's own validation, and then, for a registration, the single use of the initial access token.
 */
async function enforceClientRules(ctx: KoaContextWithOIDC, properties: ClientMetadata): Promise<void> {
  const body = (ctx.oidc.body ?? {}) as Record<string, unknown>;
  const creating = ctx.method === 'POST';
  // oidc-provider would silently replace a client_id sent on registration: refuse it, so the client knows.
  if (creating && body['client_id'] !== undefined) {
    throw new errors.InvalidClientMetadata('client_id is assigned by the server; do not send one');
  }
  // first_party skips consent: it is an administrator's decision; a client may only echo what it was given.
  const firstParty = creating ? false : ctx.oidc.client?.['first_party'] === true;
  if (body['first_party'] !== undefined && body['first_party'] !== firstParty) {
    throw new errors.InvalidClientMetadata('first_party is set by an administrator, not by registration');
  }
  const refused = checkRegistrationMetadata(properties);
  if (refused) throw new errors.InvalidClientMetadata(refused);
  await ctx.oidc.provider.Client.validate(properties);

  const iat = ctx.oidc.entities.InitialAccessToken;
  // Single use, and atomic: the token is consumed only now that the registration is valid, and of two requests
  // racing with one token only one gets past this line (the other gets invalid_token). It is then destroyed on
  // registration_create.success.
  if (creating && iat?.jti) await ctx.oidc.provider.InitialAccessToken.adapter.consume(iat.jti);
}

/** Records dynamic registrations in the audit log, and removes used initial access tokens, noting their client. */
export function handleRegistrationEvents(provider: Provider, deps: { audit: AuditLog; logger: Logger; queries: Pick<Queries, 'initialAccessTokens'> }): void {
  // Provider events are not awaited: a failure can no longer fail the response, so it is logged.
  const settle = (what: string, work: Promise<unknown>) => {
    work.catch((err: unknown) => deps.logger.error({ err }, `${what} failed after a dynamic registration`));
  };
  const record = (event: AuditEventName, ctx: KoaContextWithOIDC, clientId: string, details: Record<string, unknown>) =>
    settle(`audit ${event}`, deps.audit.record(event, requestOrigin(ctx, clientId), null, { via: 'registration', ...details }));

  provider.on('registration_create.success', (ctx: KoaContextWithOIDC, client: { clientId: string; clientName?: string }) => {
    const iat = ctx.oidc.entities.InitialAccessToken;
    // Why destroy: an initial access token admits one client (OIDC Registration §3, RFC 7591 §3); consumed already, it is now removed.
    if (iat) settle('removing the initial access token', iat.destroy());
    if (iat?.jti) settle('noting the initial access token as used', deps.queries.initialAccessTokens.markUsed(hashedModelId(iat.jti), client.clientId));
    record('client.registered', ctx, client.clientId, { name: client.clientName, initialAccessToken: iat?.jti ? tokenReference(iat.jti) : undefined });
  });
  provider.on('registration_update.success', (ctx: KoaContextWithOIDC, client: { clientId: string }) => {
    record('client.updated', ctx, client.clientId, {});
  });
  provider.on('registration_delete.success', (ctx: KoaContextWithOIDC, client: { clientId: string }) => {
    record('client.deleted', ctx, client.clientId, {});
  });
}
