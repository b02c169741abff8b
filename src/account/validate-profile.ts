// Validation of profile fields people type: display name and email address.

export const EMAIL_MAX_LENGTH = 254;

/** Returns the normalised address, or undefined when it is not a plausible email address. */
export function normalizeEmail(input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  const email = input.trim();
  if (email.length > EMAIL_MAX_LENGTH) return undefined;
  // One @, a non-empty local part, and a domain with a dot and no spaces: what mail servers will accept.
  if (!/^[^\s@"<>()[\],;:\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/.test(email)) return undefined;
  return email;
}

/** Returns the trimmed display name, or undefined when it is empty or too long. */
export function normalizeName(input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  const name = input.trim().replace(/\s+/g, ' ');
  return name.length >= 1 && name.length <= 100 && !/[\u0000-\u001f\u007f]/.test(name) ? name : undefined;
}
