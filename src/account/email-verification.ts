// Verifying the back-up email: a single-use link sent to the address, valid 24 hours.
import { createHash, randomBytes } from 'node:crypto';
import type { Mailer } from '../mail/mailer.js';
import type { Account, Queries } from '../storage/queries.js';
import type { ShortLivedStore } from '../storage/short-lived/short-lived-store.js';

export const VERIFY_LINK_HOURS = 24;

// Only a hash of the token is stored: a copy of Redis does not hold working links.
const keyOf = (token: string) => `email-verify:${createHash('sha256').update(token).digest('base64url')}`;

/** Sends a verification link for the account's current email address. */
export async function sendVerificationLink(deps: { store: ShortLivedStore; mailer: Mailer; issuer: string }, account: Account): Promise<'SENT' | 'FAILED'> {
  const token = randomBytes(32).toString('base64url');
  const link = `${deps.issuer}/account/verify-email?token=${token}`;
  const sent = await deps.mailer.send({ to: account.email, template: 'verify-email', locals: { name: account.name, link, hours: VERIFY_LINK_HOURS } });
  if (sent.status !== 'SENT') return 'FAILED';
  await deps.store.setJson(keyOf(token), { accountId: account.id, email: account.email }, VERIFY_LINK_HOURS * 3600);
  return 'SENT';
}

/** Whether a token is (still) a working link, without using it. */
export async function peekVerificationLink(store: ShortLivedStore, token: unknown): Promise<{ email: string } | undefined> {
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  return store.getJson<{ accountId: string; email: string }>(keyOf(token));
}

/** Uses a link: marks the address verified if the account still has that address. Single use. */
export async function confirmVerificationLink(deps: { store: ShortLivedStore; queries: Pick<Queries, 'accounts'> }, token: unknown): Promise<'VERIFIED' | 'INVALID'> {
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(token)) return 'INVALID';
  const entry = await deps.store.takeJson<{ accountId: string; email: string }>(keyOf(token));
  if (!entry) return 'INVALID';
  return (await deps.queries.accounts.markEmailVerified(entry.accountId, entry.email)) ? 'VERIFIED' : 'INVALID';
}
