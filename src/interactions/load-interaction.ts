// Loads the interaction a page belongs to, refusing an expired one or one from another browser.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type InteractionResults } from 'oidc-provider';
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

/**
 * Stores the result on the interaction this request loaded (as provider.interactionResult does, without reading it
 * again) and sends the browser on with 303, so no form body is replayed (RFC 9700 §4.12).
 */
export async function finishInteraction(ctx: Context, interaction: InteractionDetails, result: InteractionResults, merge = false): Promise<void> {
  interaction.result = merge && !('error' in result) ? { ...interaction.lastSubmission, ...result } : result;
  await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
  ctx.status = 303;
  ctx.redirect(interaction.returnTo);
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
