// The key a bearer credential is stored under, kept apart from the adapter so the CLI can use it without oidc-provider.
import { createHash } from 'node:crypto';

/** The key a hashed model (an initial or registration access token) is stored under: the base64url SHA-256 of it. */
export function hashedModelId(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
