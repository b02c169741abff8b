// Step 2 of the setup wizard: the pending secret becomes the account's authenticator once a code from it is right.
import { matchTotpStep, normalizeTotpCode, type Clock } from '../../security/totp.js';
import type { Queries } from '../../storage/queries.js';

export type ConnectResult = { status: 'CONNECTED' } | { status: 'INVALID_FORMAT' } | { status: 'WRONG' };

/** Verifies a code against the pending secret and, when right, activates it with that code's step already used. */
export async function connectAuthenticator(
  deps: { queries: Pick<Queries, 'totp'>; clock: Clock },
  input: { accountId: string; secret: string; code: unknown },
): Promise<ConnectResult> {
  const code = normalizeTotpCode(input.code);
  if (!code) return { status: 'INVALID_FORMAT' };
  const step = matchTotpStep(input.secret, code, deps.clock);
  if (step === undefined) return { status: 'WRONG' };
  // Stored with last_step = this step, so the code that confirmed setup can never also be used to log in.
  await deps.queries.totp.connect(input.accountId, input.secret, step);
  return { status: 'CONNECTED' };
}
