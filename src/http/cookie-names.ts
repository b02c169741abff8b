// The names of Twofold's cookies. With an https ISSUER they carry the prefixes that browsers enforce (RFC 6265bis
// §4.1.3): __Host- (Secure, Path=/, no Domain, so neither a page on http nor a sibling subdomain can set or shadow
// it) where the cookie's path is /, and __Secure- where oidc-provider scopes the cookie to one interaction's path.

export interface CookieNames {
  /** oidc-provider's session cookie (and its .sig). */
  session: string;
  /** oidc-provider's cookie for one interaction, on /interaction/:uid. */
  interaction: string;
  /** oidc-provider's cookie for resuming one authorization, on /auth/:uid. */
  resume: string;
  /** The per-browser CSRF secret of Twofold's forms. */
  csrf: string;
}

/** Whether the issuer is served over https (then cookies are Secure and prefixed). */
export const isHttpsIssuer = (issuer: string) => new URL(issuer).protocol === 'https:';

/** The cookie names for an issuer served over https (`secure`) or not. */
export function cookieNames(secure: boolean): CookieNames {
  return secure
    ? { session: '__Host-session', interaction: '__Secure-interaction', resume: '__Secure-interaction_resume', csrf: '__Host-twofold.csrf' }
    : { session: '_session', interaction: '_interaction', resume: '_interaction_resume', csrf: 'twofold.csrf' };
}
