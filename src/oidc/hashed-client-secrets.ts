// oidc-provider with client secrets stored hashed: what it is given as a client's client_secret is the stored hash,
// so the places that would compare or return the secret itself are adapted here.
import type { IncomingMessage } from 'node:http';
import type { Context, Middleware, Next } from 'koa';
import Provider, { errors } from 'oidc-provider';
import { isSecretHash, type ClientSecretHasher } from '../security/client-secrets.js';

/** The algorithms a client secret could key (HS*, for client_secret_jwt or request objects): left out, as the secret is not kept. */
export const ASYMMETRIC_ONLY = ['RS256', 'PS256', 'ES256', 'Ed25519', 'EdDSA'] as const;

/** The body size oidc-provider itself accepts. */
const BODY_LIMIT = 56 * 1024;

/**
 * Makes client_secret_basic and client_secret_post check the presented secret against the stored hash, and only in
 * the way the client registered. Overriding Client#compareClientSecret is oidc-provider's way to plug in hashed
 * secrets; on its own it takes either way for either method.
 */
export function checkHashedClientSecrets(provider: Provider, hasher: ClientSecretHasher): void {
  provider.Client.prototype.compareClientSecret = function compareClientSecret(actual: string) {
    // The registered method only (requirement 53): a secret sent another way may have passed through logs or proxies
    // that the client's registration did not reckon with.
    const presented = Provider.ctx?.oidc?.params?.['client_secret'] !== undefined ? 'client_secret_post' : 'client_secret_basic';
    if (presented !== this.clientAuthMethod) {
      throw new errors.InvalidClientAuth(`the client is registered for ${this.clientAuthMethod}, and the secret came by ${presented}`);
    }
    return hasher.verify(this.clientId, actual, this.clientSecret ?? '');
  };
}

/**
 * RFC 7592 with hashed secrets. A read or an update answers without the stored hash (a client must never take it for
 * its secret); a secret oidc-provider has just generated, shown once, is kept. An update may carry the client's
 * secret (§2.2: it must match): when it matches the stored hash it is replaced by that hash, which is the value
 * oidc-provider compares with, so a right secret passes and a wrong one is refused as before.
 */
export function hashedSecretsInRegistration(provider: Provider, hasher: ClientSecretHasher): Middleware {
  const prefix = `${provider.pathFor('registration')}/`;
  const adapt = async (ctx: Context, next: Next) => {
    if (ctx.method === 'PUT' && ctx.is('application/json')) {
      const body = await readJson(ctx.req, ctx.request.length);
      if (body === undefined) {
        ctx.status = 400;
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { error: 'invalid_request', error_description: 'failed to parse the request body' };
        return undefined;
      }
      const clientId = safeDecode(ctx.path.slice(prefix.length));
      const presented = isObject(body) ? body['client_secret'] : undefined;
      if (isObject(body) && typeof presented === 'string') {
        // Read through the client cache; the registration access token is still checked by oidc-provider after this.
        const stored = (await provider.Client.find(clientId).catch(() => undefined))?.clientSecret;
        // Anything else, the stored hash itself included, becomes a value that matches nothing.
        body['client_secret'] = stored && hasher.verify(clientId, presented, stored) ? stored : '';
      }
      replayBody(ctx.req, ctx, Buffer.from(JSON.stringify(body)));
    }
    await next();
    if (isObject(ctx.body) && isSecretHash(ctx.body['client_secret'])) {
      delete ctx.body['client_secret'];
      delete ctx.body['client_secret_expires_at'];
    }
  };
  // Every other request goes straight on: no async frame of its own.
  return (ctx, next) => (ctx.path.startsWith(prefix) && (ctx.method === 'GET' || ctx.method === 'PUT') ? adapt(ctx, next) : next());
}

/**
 * Hands oidc-provider the (possibly changed) body as a request still to be read, as it reads every body itself: the
 * request as it was, but readable once more, yielding `body`.
 */
function replayBody(req: IncomingMessage, ctx: { req: IncomingMessage }, body: Buffer): void {
  req.headers['content-length'] = String(body.length);
  delete req.headers['transfer-encoding'];
  const chunks = async function* replay() {
    yield body;
  };
  ctx.req = Object.create(req, { readable: { value: true }, iterator: { value: chunks }, [Symbol.asyncIterator]: { value: chunks } }) as IncomingMessage;
}

/** A path segment decoded, or as it is when it is not valid percent-encoding (a bad path is a 4xx, never a crash). */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The request's JSON body, or undefined when it is too large, cut short or not JSON. */
async function readJson(req: IncomingMessage, length: number | undefined): Promise<unknown> {
  if (length !== undefined && length > BODY_LIMIT) return undefined;
  const chunks: Buffer[] = [];
  let received = 0;
  // Not destroyed when left early: the connection stays usable for the error answer.
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > BODY_LIMIT) return undefined;
    chunks.push(chunk);
  }
  if (length !== undefined && received !== length) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
