// What every scenario shares: the issuer's metadata and keys, the seeded accounts and clients, the token endpoint.
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { responseError } from '../response-error.js';
import type { Seeded } from '../seed.js';

export interface BenchContext {
  issuer: string;
  metadata: { token_endpoint: string; userinfo_endpoint: string; jwks_uri: string; authorization_endpoint: string };
  jwks: ReturnType<typeof createLocalJWKSet>;
  seeded: Seeded;
  /** Bounds each request, so a hanging answer becomes an error (the faults run sets it; none when undefined). */
  requestTimeoutMs?: number;
}

/** One scenario step for virtual user `vu`; throws on any failure. */
export type Step = (vu: number) => Promise<void>;

export interface Scenario {
  name: string;
  /** Untimed preparation for `concurrency` virtual users (e.g. logging them in for tokens); returns the step. */
  prepare(ctx: BenchContext, concurrency: number): Promise<Step>;
}

/** Reads discovery and the JWKS once, as a relying party caches them. */
export async function createContext(issuer: string, seeded: Seeded, options: { requestTimeoutMs?: number } = {}): Promise<BenchContext> {
  const metadata = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as BenchContext['metadata'];
  const keys = (await (await fetch(metadata.jwks_uri)).json()) as JSONWebKeySet;
  return { issuer, metadata, jwks: createLocalJWKSet(keys), seeded, ...options };
}

/** The signal that bounds one request of this context, if it has a bound. */
export function requestSignal(ctx: BenchContext): AbortSignal | undefined {
  return ctx.requestTimeoutMs === undefined ? undefined : AbortSignal.timeout(ctx.requestTimeoutMs);
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  id_token?: string;
  refresh_token?: string;
  expires_in: number;
}

/** POSTs a grant to the token endpoint with client_secret_basic; throws unless 200 (ResponseError for an error status). */
export async function tokenRequest(ctx: BenchContext, client: { clientId: string; clientSecret: string }, form: Record<string, string>): Promise<TokenResponse> {
  const basic = Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64');
  const response = await fetch(ctx.metadata.token_endpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
    signal: requestSignal(ctx),
  });
  const text = await response.text();
  if (response.status !== 200) throw responseError(`token endpoint (${form['grant_type']})`, response.status, text);
  const body = JSON.parse(text) as TokenResponse;
  if (!body.access_token) throw new Error(`token endpoint (${form['grant_type']}) returned no access_token`);
  return body;
}

/** Verifies an ID token's signature against the JWKS and checks issuer, audience, nonce, acr and amr. */
export async function checkIdToken(ctx: BenchContext, idToken: string | undefined, expected: { nonce: string; acr: string; amr: string }): Promise<void> {
  if (!idToken) throw new Error('no id_token in the token response');
  const { payload } = await jwtVerify(idToken, ctx.jwks, { issuer: ctx.issuer, audience: ctx.seeded.webClient.clientId });
  if (payload['nonce'] !== expected.nonce) throw new Error('id_token nonce does not match');
  if (payload['acr'] !== expected.acr) throw new Error(`id_token acr is ${String(payload['acr'])}, expected ${expected.acr}`);
  const amr = payload['amr'];
  if (!Array.isArray(amr) || !amr.includes(expected.amr)) throw new Error(`id_token amr is ${JSON.stringify(amr)}, expected it to contain ${expected.amr}`);
}
