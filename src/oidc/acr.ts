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
