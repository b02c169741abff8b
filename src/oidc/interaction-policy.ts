// The interaction policy: which prompts (login, consent) a request needs before Twofold answers it.
import { interactionPolicy } from 'oidc-provider';

/** Creates the prompt policy: the standard login and consent prompts, with password login as the first factor. */
export function createInteractionPolicy(): interactionPolicy.Prompt[] {
  return interactionPolicy.base();
}
