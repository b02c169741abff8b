// How long a Twofold session lives: an inactivity timeout that each use extends, within an absolute lifetime from the login.
import type { Context, Middleware, Next } from 'koa';
import type Provider from 'oidc-provider';
import { interactionPolicy, type KoaContextWithOIDC, type Session } from 'oidc-provider';
import type { Lifetimes } from '../config.js';
import { onlyUnder } from '../http/routes-under.js';

const { Check } = interactionPolicy;

/** The two limits, in seconds (SESSION_IDLE_TTL and SESSION_TTL). */
export interface SessionLifetimes {
  idle: number;
  absolute: number;
}

/** The session limits of the configured lifetimes. */
export function sessionLifetimes(lifetimes: Pick<Lifetimes, 'session' | 'sessionIdle'>): SessionLifetimes {
  return { idle: lifetimes.sessionIdle, absolute: lifetimes.session };
}

/** The options of the session cookie: oidc-provider's cookies.long, and the ones set when a page extends a session. */
export const SESSION_COOKIE_OPTIONS = { httpOnly: true, sameSite: 'lax' } as const;

type StoredSession = Pick<Session, 'loginTs'>;

/** Epoch seconds, as oidc-provider counts them. */
const epochNow = () => Math.floor(Date.now() / 1000);

/**
 * Seconds the session is kept from now, given at every save (ttl.Session): the idle timeout, cut at the absolute
 * end. oidc-provider saves a session again at every authorization request that finds it, and the store drops it
 * when this runs out, so a session unused for `idle` seconds is gone, and a used one never outlives its login by
 * more than `absolute`. A lifetime is at least 1 s, so a session found at or past its end may still be stored for
 * that second: absoluteLifetimeCheck and extendSessionOnUse refuse it then.
 */
export function sessionTtl(lifetimes: SessionLifetimes, session: StoredSession, now = epochNow()): number {
  const idle = Math.min(lifetimes.idle, lifetimes.absolute);
  if (typeof session.loginTs !== 'number') return idle;
  return Math.max(1, Math.min(idle, session.loginTs + lifetimes.absolute - now));
}

/** Whether the session's absolute lifetime is over, even if the store still holds it for a moment. */
export function sessionPastAbsoluteLifetime(lifetimes: SessionLifetimes, session: StoredSession, now = epochNow()): boolean {
  return typeof session.loginTs === 'number' && now >= session.loginTs + lifetimes.absolute;
}

/** A login check: a signed-in session past its absolute lifetime is not reused (prompt=none gets login_required). */
export function absoluteLifetimeCheck(lifetimes: SessionLifetimes): interactionPolicy.Check {
  return new Check('session_expired', 'the session has reached its absolute lifetime', 'login_required', (ctx: KoaContextWithOIDC) => {
    const { session } = ctx.oidc;
    return session?.accountId && sessionPastAbsoluteLifetime(lifetimes, session) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
  });
}

/**
 * Counts a request to Twofold's own pages under `prefixes` (/account, /admin) as use of the session. Those pages
 * read the session without oidc-provider's session handling, which alone would not save it again: this saves it
 * with a fresh idle timeout, and sets the cookie's expiry to match, as oidc-provider does.
 */
export function extendSessionOnUse(provider: Provider, lifetimes: SessionLifetimes, prefixes: readonly string[]): Middleware {
  const cookieName = provider.cookieName('session');
  const extend = async (ctx: Context, next: Next) => {
    const session = await provider.Session.get(ctx as never);
    if (session.accountId) {
      // Why destroy: a session is never extended past its absolute lifetime; the pages then find no session.
      if (sessionPastAbsoluteLifetime(lifetimes, session)) {
        await session.destroy();
      } else {
        await session.save(sessionTtl(lifetimes, session));
        if (!session.transient) ctx.cookies.set(cookieName, session.jti, { ...SESSION_COOKIE_OPTIONS, expires: new Date(session.exp * 1000), overwrite: true });
      }
    }
    await next();
  };
  return onlyUnder(prefixes, extend);
}

/**
 * Gives the signed-in session a new id, kept until the same end, and points the session cookie at it; the old id
 * no longer finds the session. Called when a person confirms it is them again: a session cookie copied before the
 * re-check does not gain what the re-check allows (ASVS 7.2.4). oidc-provider does the same when a login completes.
 */
export async function renewSessionId(provider: Provider, ctx: Context): Promise<void> {
  const session = await provider.Session.get(ctx as never);
  if (!session.accountId || typeof session.exp !== 'number') return;
  session.resetIdentifier();
  await session.persist();
  const lasts = session.transient ? {} : { expires: new Date(session.exp * 1000) };
  ctx.cookies.set(provider.cookieName('session'), session.jti, { ...SESSION_COOKIE_OPTIONS, ...lasts, overwrite: true });
}
