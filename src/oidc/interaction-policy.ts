// The interaction policy: which prompts a request needs before Twofold answers it.
// The standard login prompt gains checks so an existing session is only reused when it is strong enough and within
// its absolute lifetime.
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { acrRank, ACR_PASSWORD, requestedAcrRank } from './acr.js';
import { absoluteLifetimeCheck, type SessionLifetimes } from './session-lifetime.js';

const { Check, base } = interactionPolicy;

export interface PolicyDeps {
  /** Whether the account has an authenticator app connected. */
  hasTotp(accountId: string): Promise<boolean>;
  /** The idle timeout and absolute lifetime of sessions. */
  session: SessionLifetimes;
}

/** Reasons our checks give; the login pages start a step-up (second factor only) for these. */
export const STEP_UP_REASONS = new Set(['acr_insufficient', 'second_factor_enrolled']);

/** Creates the prompt policy: login (password, then the second factor or setup) and consent. */
export function createInteractionPolicy(deps: PolicyDeps): interactionPolicy.Prompt[] {
  const policy = base();
  const login = policy.get('login')!;
  // Replaced by acr_insufficient below, which compares levels by rank instead of requiring an exact value.
  login.checks.remove('essential_acr');
  login.checks.remove('essential_acrs');

  // A session is never reused past its absolute lifetime, even in the second before the store drops it.
  login.checks.add(absoluteLifetimeCheck(deps.session));

  // A session signed in at a lower level than the client asks for is not reused: a request for a level
  // is never answered with a lower one (OIDC Core §3.1.2.1 acr_values, §5.5.1.1 essential acr).
  login.checks.add(
    new Check('acr_insufficient', 'the session does not meet the requested authentication level', 'login_required', (ctx: KoaContextWithOIDC) => {
      const { oidc } = ctx;
      if (!oidc.session?.accountId) return Check.NO_NEED_TO_PROMPT;
      const requested = requestedAcrRank(oidc.params as { acr_values?: unknown; claims?: unknown });
      return requested > acrRank(oidc.session.acr) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }),
  );

  // A session whose account was disabled (findAccount no longer finds it) is not reused: log in again, which a
  // disabled account cannot. Without this the request went on to consent with no grant and failed with a 500.
  login.checks.add(
    new Check('account_unavailable', 'the account of the session can no longer sign in', 'login_required', (ctx: KoaContextWithOIDC) => {
      const { oidc } = ctx;
      return oidc.session?.accountId && !oidc.account ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }),
  );

  // A password-only session of an account that has since connected an authenticator must use it.
  login.checks.add(
    new Check('second_factor_enrolled', 'the account uses two-factor authentication', 'login_required', async (ctx: KoaContextWithOIDC) => {
      const { oidc } = ctx;
      const accountId = oidc.session?.accountId;
      if (!accountId || acrRank(oidc.session.acr) > acrRank(ACR_PASSWORD)) return Check.NO_NEED_TO_PROMPT;
      return (await deps.hasTotp(accountId)) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }),
  );
  return policy;
}
