// Password hashing (argon2id) and the policy for new passwords.
import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import pLimit from 'p-limit';

// OWASP's minimum for argon2id (m=19 MiB, t=2, p=1); the parameters live in each hash so they can be raised later.
// algorithm 2 is Algorithm.Argon2id (a const enum, which isolated modules cannot import).
export const ARGON2_OPTIONS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

// At most one argon2 computation per core at a time: more only queue in libuv's pool, where each holds its 19 MiB
// (which the allocator keeps per thread) and delays file reads behind it; the rest wait here, in order.
const argon2Slots = pLimit(Math.max(1, availableParallelism()));

export const PASSWORD_MIN_LENGTH = 8;
// Capped so the argon2 work a single request can cause stays bounded (NIST asks that at least 64 be allowed).
export const PASSWORD_MAX_LENGTH = 256;

/** Normalises a password (NFKC) so the same password typed on different keyboards verifies. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Whether a password is over PASSWORD_MAX_LENGTH, counted as the policy counts: code points after NFKC. */
export function isPasswordTooLong(password: string): boolean {
  // Counted the same way everywhere, so a password the policy accepted (e.g. 130 emoji) can always be verified.
  return [...normalizePassword(password)].length > PASSWORD_MAX_LENGTH;
}

/** Hashes a password with argon2id and a random 128-bit salt; runs on libuv's thread pool, off the event loop. */
export function hashPassword(password: string): Promise<string> {
  return argon2Slots(() => hash(normalizePassword(password), ARGON2_OPTIONS));
}

let dummyHash: Promise<string> | undefined;

/**
 * Verifies a password against a stored hash; with no hash (unknown user) it verifies against a dummy hash,
 * so that unknown users and wrong passwords take the same time.
 */
export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  if (isPasswordTooLong(password)) return false;
  dummyHash ??= hashPassword('twofold dummy password for timing');
  const target = storedHash ?? (await dummyHash);
  try {
    const ok = await argon2Slots(() => verify(target, normalizePassword(password)));
    return ok && storedHash !== undefined;
  } catch {
    return false;
  }
}

export type PasswordProblem = 'TOO_SHORT' | 'TOO_LONG' | 'COMMON' | 'CONTAINS_CONTEXT';

const PROBLEM_TEXT: Record<PasswordProblem, string> = {
  TOO_SHORT: `The password must have at least ${PASSWORD_MIN_LENGTH} characters (15 or more is better).`,
  TOO_LONG: `The password must have at most ${PASSWORD_MAX_LENGTH} characters.`,
  COMMON: 'This password is on a list of common or breached passwords; choose another one.',
  CONTAINS_CONTEXT: 'The password must not contain the username or the word "twofold".',
};

let blocklist: Promise<Set<string>> | undefined;

// The list (some 15 MB in memory) is loaded the first time a password is set, not by every server at start.
async function loadBlocklist(): Promise<Set<string>> {
  const { dictionary } = await import('@zxcvbn-ts/language-common');
  return new Set(dictionary['passwords-common'].filter((p) => p.length >= PASSWORD_MIN_LENGTH));
}

/** Checks a new password against the policy: length, a list of common passwords and context words. */
export async function checkNewPassword(password: string, context: { username: string }): Promise<{ ok: true } | { ok: false; problem: PasswordProblem; message: string }> {
  const normalized = normalizePassword(password);
  const length = [...normalized].length; // counted in code points, not UTF-16 units
  const fail = (problem: PasswordProblem) => ({ ok: false as const, problem, message: PROBLEM_TEXT[problem] });
  if (length < PASSWORD_MIN_LENGTH) return fail('TOO_SHORT');
  if (length > PASSWORD_MAX_LENGTH) return fail('TOO_LONG');
  blocklist ??= loadBlocklist();
  const lower = normalized.toLowerCase();
  if ((await blocklist).has(lower)) return fail('COMMON');
  const username = context.username.toLowerCase();
  if (lower.includes('twofold') || (username.length >= 3 && lower.includes(username))) return fail('CONTAINS_CONTEXT');
  return { ok: true };
}
