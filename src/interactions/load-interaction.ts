// Loads the interaction a page belongs to, refusing an expired one or one from another browser.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import { AppError } from '../errors.js';
import type { LoginState, LoginStateStore } from './login-state.js';

export type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

/** Returns the interaction for the uid in the URL, or throws INTERACTION_EXPIRED. */
export async function loadInteraction(provider: Provider, ctx: Context, expectedPrompt?: string): Promise<InteractionDetails> {
  let details: InteractionDetails;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (err) {
    if (err instanceof errors.SessionNotFound) throw new AppError('INTERACTION_EXPIRED');
    throw err;
  }
  // The uid in the URL must be the one bound to this browser's interaction cookie.
  if (details.uid !== ctx.params['uid']) throw new AppError('INTERACTION_EXPIRED');
  if (expectedPrompt && details.prompt.name !== expectedPrompt) throw new AppError('INTERACTION_EXPIRED');
  return details;
}

/** Stores the interaction's result and sends the browser on with 303, so no form body is replayed (RFC 9700 §4.12). */
export async function finishInteraction(provider: Provider, ctx: Context, result: Parameters<Provider['interactionResult']>[2], merge = false): Promise<void> {
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
  ctx.status = 303;
  ctx.redirect(returnTo);
}

/**
 * Loads the interaction and the login's state at once (one round trip instead of two); the state is returned
 * only after the interaction proved that the uid in the URL belongs to this browser.
 */
export async function loadInteractionAndState(
  deps: { provider: Provider; loginState: Pick<LoginStateStore, 'load'> },
  ctx: Context,
  expectedPrompt?: string,
): Promise<[InteractionDetails, LoginState | undefined]> {
  const uid = typeof ctx.params['uid'] === 'string' ? ctx.params['uid'] : '';
  const state = deps.loginState.load(uid);
  // Settled before anything can throw below, so a failed state read is never left unhandled.
  state.catch(() => undefined);
  const details = await loadInteraction(deps.provider, ctx, expectedPrompt);
  return [details, await state];
}
