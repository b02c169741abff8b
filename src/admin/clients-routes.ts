// /admin/clients: list, register, edit, delete clients, rotate their secrets, and issue initial access tokens.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { AppError } from '../errors.js';
import { requestOrigin, type AuditEventName } from '../security/audit.js';
import { clientCacheOf } from '../oidc/client-cache.js';
import type { Client } from '../storage/queries.js';
import { clientFormValues, newClientForm, readClientForm, stringList, toClientInput, type ClientFormValues } from '../clients/client-form.js';
import { INFO_URI_FIELDS, INFO_URI_LABELS } from '../clients/client-input.js';
import { deleteClient } from '../clients/delete-client.js';
import { IAT_EXPIRIES, IAT_LIST_DAYS, isIatExpiry, issueInitialAccessToken, isTokenReference, listedSince, revokeInitialAccessToken } from '../clients/issue-initial-access-token.js';
import { registerClient, rotateClientSecret, type ClientDeps } from '../clients/register-client.js';
import { updateClient } from '../clients/update-client.js';
import { adminOf, type AdminDeps } from './routes.js';

// The messages shown on the list after a change, by code (never text taken from the request).
const CHANGES = new Set(['updated', 'deleted']);

/** Registers the Clients section on the /admin router. */
export function registerClientsSection(router: Router, deps: AdminDeps): void {
  const clientDeps: ClientDeps & { invalidate: (clientId: string) => void } = {
    queries: deps.queries,
    validateMetadata: (metadata) => deps.provider.Client.validate(metadata),
    // The console applies the production rules everywhere: http redirect URIs only for loopback (RFC 9700 §2.6).
    production: true,
    invalidate: (clientId) => clientCacheOf(deps.provider).invalidate(clientId),
  };
  const audit = (ctx: Context, event: AuditEventName, clientId: string | undefined, details: Record<string, unknown> = {}) =>
    deps.audit.record(event, requestOrigin(ctx, clientId), null, details, adminOf(ctx).account.id);
  const body = (ctx: Context) => (ctx.request.body ?? {}) as Record<string, unknown>;
  const findClient = async (ctx: Context): Promise<Client> => {
    const client = await deps.queries.clients.findById(String(ctx.params['id']));
    if (!client) throw new AppError('NOT_FOUND');
    return client;
  };
  const renderForm = (ctx: Context, form: ClientFormValues, extra: { client?: Client; problems?: string[] } = {}) => {
    if (extra.problems?.length) ctx.status = 400;
    const editing = extra.client !== undefined;
    return ctx.render('admin/clients/form', {
      title: editing ? 'Edit client' : 'Register a client', form, infoFields: INFO_URI_FIELDS.map((f) => [f, INFO_URI_LABELS[f]]), ...extra,
    });
  };

  router.get('/clients', async (ctx) => {
    const clients = (await deps.queries.clients.list()).map((client) => ({
      ...client,
      type: client.metadata['token_endpoint_auth_method'] === 'none' ? 'public' : 'confidential',
      redirectUris: stringList(client.metadata['redirect_uris']),
    }));
    const changed = typeof ctx.query['changed'] === 'string' && CHANGES.has(ctx.query['changed']) ? ctx.query['changed'] : undefined;
    await ctx.render('admin/clients/list', { title: 'Clients', clients, changed });
  });

  router.get('/clients/new', (ctx) => renderForm(ctx, newClientForm()));

  router.post('/clients/new', async (ctx) => {
    const form = readClientForm(body(ctx));
    const result = await registerClient(clientDeps, toClientInput(form));
    if (result.status === 'INVALID') return renderForm(ctx, form, { problems: result.problems });
    await audit(ctx, 'client.created', result.clientId, { name: form.name.trim(), type: form.type, firstParty: form.firstParty });
    await ctx.render('admin/clients/secret', { title: 'Client registered', created: true, name: form.name.trim(), clientId: result.clientId, clientSecret: result.clientSecret });
  });

  // The tokens issued in the last IAT_LIST_DAYS, with what became of each, and the form to issue one.
  const renderTokens = async (ctx: Context, extra: { title: string; issued?: unknown; changed?: string }) => {
    const tokens = await deps.queries.initialAccessTokens.list({ since: listedSince() });
    await ctx.render('admin/clients/tokens', { expiries: Object.keys(IAT_EXPIRIES), tokens, listDays: IAT_LIST_DAYS, registrationEndpoint: `${deps.issuer}/reg`, ...extra });
  };
  const findToken = async (ctx: Context) => {
    const reference = ctx.params['reference'];
    const token = isTokenReference(reference) ? await deps.queries.initialAccessTokens.findByReference(reference) : undefined;
    if (!token) throw new AppError('NOT_FOUND');
    return token;
  };

  router.get('/clients/tokens', (ctx) => renderTokens(ctx, { title: 'Initial access tokens', changed: ctx.query['changed'] === 'revoked' ? 'revoked' : undefined }));

  router.post('/clients/tokens', async (ctx) => {
    const expiry = body(ctx)['expires'];
    if (!isIatExpiry(expiry)) throw new AppError('BAD_REQUEST');
    const issued = await issueInitialAccessToken(deps, expiry, { accountId: adminOf(ctx).account.id, via: 'console' });
    await audit(ctx, 'initial_access_token.issued', undefined, { reference: issued.reference, expiresAt: issued.expiresAt.toISOString(), via: 'console' });
    await renderTokens(ctx, { title: 'Initial access token issued', issued });
  });

  router.get('/clients/tokens/:reference/revoke', async (ctx) => {
    await ctx.render('admin/clients/revoke-token', { title: 'Revoke initial access token', token: await findToken(ctx) });
  });

  router.post('/clients/tokens/:reference/revoke', async (ctx) => {
    const result = await revokeInitialAccessToken(deps, String(ctx.params['reference']), adminOf(ctx).account.id);
    if (result.status === 'NOT_FOUND') throw new AppError('NOT_FOUND');
    if (result.status === 'NOT_ACTIVE') {
      // Used, expired or revoked meanwhile (another admin, another tab): say so, with its state now.
      ctx.status = 409;
      return ctx.render('admin/clients/revoke-token', { title: 'Revoke initial access token', token: result.token });
    }
    await audit(ctx, 'initial_access_token.revoked', undefined, { reference: result.token.reference, via: 'console' });
    ctx.status = 303;
    ctx.redirect('/admin/clients/tokens?changed=revoked');
  });

  router.get('/clients/:id/edit', async (ctx) => {
    const client = await findClient(ctx);
    await renderForm(ctx, clientFormValues(client), { client });
  });

  router.post('/clients/:id/edit', async (ctx) => {
    const client = await findClient(ctx);
    const form = readClientForm(body(ctx));
    const result = await updateClient(clientDeps, client.clientId, toClientInput(form));
    if (result.status === 'NOT_FOUND') throw new AppError('NOT_FOUND');
    if (result.status === 'INVALID') return renderForm(ctx, { ...form, type: clientFormValues(client).type }, { client, problems: result.problems });
    await audit(ctx, 'client.updated', client.clientId, { fields: result.changed });
    ctx.status = 303;
    ctx.redirect('/admin/clients?changed=updated');
  });

  router.get('/clients/:id/delete', async (ctx) => {
    await ctx.render('admin/clients/delete', { title: 'Delete client', client: await findClient(ctx) });
  });

  router.post('/clients/:id/delete', async (ctx) => {
    const client = await findClient(ctx);
    const result = await deleteClient({ queries: deps.queries, store: deps.store, invalidate: clientDeps.invalidate }, client.clientId);
    if (result.status === 'NOT_FOUND') throw new AppError('NOT_FOUND');
    await audit(ctx, 'client.deleted', client.clientId, { name: client.name, grantsRevoked: result.grantsRevoked });
    ctx.status = 303;
    ctx.redirect('/admin/clients?changed=deleted');
  });

  router.get('/clients/:id/rotate-secret', async (ctx) => {
    const client = await findClient(ctx);
    await ctx.render('admin/clients/rotate', { title: 'Rotate secret', client, isPublic: client.metadata['token_endpoint_auth_method'] === 'none' });
  });

  router.post('/clients/:id/rotate-secret', async (ctx) => {
    const client = await findClient(ctx);
    const result = await rotateClientSecret(clientDeps, client.clientId);
    if (result.status === 'NOT_FOUND') throw new AppError('NOT_FOUND');
    if (result.status === 'PUBLIC_CLIENT') throw new AppError('BAD_REQUEST');
    await audit(ctx, 'client.secret_rotated', client.clientId, { name: client.name });
    await ctx.render('admin/clients/secret', { title: 'Secret rotated', created: false, name: client.name, clientId: client.clientId, clientSecret: result.clientSecret });
  });
}
