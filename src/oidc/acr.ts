// Authentication levels (acr) and methods (amr) that Twofold states in ID tokens.

/** Password only (also a sysadmin who postponed 2FA setup). */
export const ACR_PASSWORD = 'urn:twofold:loa:1';
/** Password plus a one-time code sent by email (account recovery, not an authenticator). */
export const ACR_PASSWORD_EMAIL = 'urn:twofold:loa:2';
/** Password plus a code from an authenticator app (TOTP). */
export const ACR_PASSWORD_TOTP = 'urn:twofold:loa:3';

/** Every level, lowest first, as advertised in discovery. */
export const ACR_VALUES = [ACR_PASSWORD, ACR_PASSWORD_EMAIL, ACR_PASSWORD_TOTP] as const;
export type Acr = (typeof ACR_VALUES)[number];

/** The rank of an acr value (1 to 3), or 0 for a value Twofold does not issue. */
export function acrRank(acr: unknown): number {
  return typeof acr === 'string' ? ACR_VALUES.indexOf(acr as Acr) + 1 : 0;
}

/**
 * The lowest level a request accepts, from acr_values (voluntary, in preference order) and an essential acr
 * claim; 0 when it names none of ours. Twofold never answers a request with a lower level than this.
 */
export function requestedAcrRank(params: { acr_values?: unknown; claims?: unknown }): number {
  const values: string[] = typeof params.acr_values === 'string' ? params.acr_values.split(' ').filter(Boolean) : [];
  const claims = parseClaims(params.claims);
  const acrClaim = claims?.id_token?.acr;
  if (acrClaim?.essential) {
    if (typeof acrClaim.value === 'string') values.push(acrClaim.value);
    if (Array.isArray(acrClaim.values)) values.push(...acrClaim.values.filter((v): v is string => typeof v === 'string'));
  }
  const ranks = values.map(acrRank).filter((rank) => rank > 0);
  return ranks.length ? Math.min(...ranks) : 0;
}

type AcrClaimRequest = { essential?: boolean; value?: unknown; values?: unknown[] };

function parseClaims(claims: unknown): { id_token?: { acr?: AcrClaimRequest } } | undefined {
  if (typeof claims === 'string') {
    try {
      return JSON.parse(claims) as { id_token?: { acr?: AcrClaimRequest } };
    } catch {
      return undefined;
    }
  }
  return claims && typeof claims === 'object' ? (claims as { id_token?: { acr?: AcrClaimRequest } }) : undefined;
}

/** The claims an ID token carries for each way of signing in. */
export const LOGIN_RESULTS = {
  password: { acr: ACR_PASSWORD, amr: ['pwd'] },
  email: { acr: ACR_PASSWORD_EMAIL, amr: ['pwd', 'email'] },
  totp: { acr: ACR_PASSWORD_TOTP, amr: ['pwd', 'otp', 'mfa'] },
} as const;
export type LoginMethod = keyof typeof LOGIN_RESULTS;
