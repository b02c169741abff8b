// Seeds accounts and clients straight through the storage layer, with the server's own environment.
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { registerClient } from '../src/clients/register-client.js';
import type { ClientInput } from '../src/clients/client-input.js';
import { hashPassword } from '../src/security/passwords.js';
import { createTotpSecret, timeStepAt } from '../src/security/totp.js';
import { openStorage } from '../src/storage/open-storage.js';
import type { Queries } from '../src/storage/queries.js';

export const PASSWORD = 'bench correct horse battery staple';
export const REDIRECT_URI = 'http://127.0.0.1:1/callback';

export interface SeededUser {
  username: string;
  /** The TOTP secret (sysadmins); undefined for plain users. */
  secret?: string;
  /** The last TOTP step this user logged in with: the replay guard allows one login per step. */
  lastStep: number;
}

export interface Seeded {
  sysadmins: SeededUser[];
  users: SeededUser[];
  webClient: { clientId: string; clientSecret: string };
  serviceClient: { clientId: string; clientSecret: string };
}

/** Runs `task` over `items` with at most `width` at once. */
async function eachLimited<T>(items: T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await task(items[next++]!);
  }));
}

async function addClient(queries: Queries, input: Partial<ClientInput>): Promise<{ clientId: string; clientSecret: string }> {
  const result = await registerClient(
    // The input is validated by registerClient itself; oidc-provider's metadata check needs a Provider, which the
    // server runs, and these fixed, known-good inputs are the same the flow tests register through it.
    { queries, validateMetadata: async () => undefined, production: true },
    {
      name: 'Bench',
      redirectUris: [],
      postLogoutRedirectUris: [],
      public: false,
      firstParty: true,
      grantTypes: ['authorization_code', 'refresh_token'],
      scope: 'openid profile email offline_access',
      authMethod: 'client_secret_basic',
      ...input,
    },
  );
  if (result.status !== 'CREATED' || !result.clientSecret) throw new Error(`could not register the bench client: ${result.status === 'INVALID' ? result.problems.join('; ') : 'no secret'}`);
  return { clientId: result.clientId, clientSecret: result.clientSecret };
}

/** Creates `sysadmins` sysadmins with an authenticator app, `users` plain users and the two clients. */
export async function seed(env: Record<string, string>, counts: { sysadmins: number; users: number }): Promise<Seeded> {
  const config = loadConfig(env);
  const storage = await openStorage({ config, logger: createLogger('warn'), secretKey: config.secretKey!, mode: 'client' });
  try {
    const { queries } = storage;
    // One argon2id hash (m=19 MiB, t=2), computed once and stored for every seeded account: hashing thousands
    // would take minutes, and verifying costs the same whatever the salt.
    const passwordHash = await hashPassword(PASSWORD);
    // The setup step counts as used: two steps back, so the first login in the current step is accepted.
    const setupStep = timeStepAt(Date.now()) - 2;
    const make = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);
    const sysadmins: SeededUser[] = [];
    const users: SeededUser[] = [];
    await eachLimited([...make('admin', counts.sysadmins), ...make('user', counts.users)], 8, async (username) => {
      const role = username.startsWith('admin') ? 'sysadmin' : 'user';
      const created = await queries.accounts.create({ username, name: `Bench ${username}`, email: `${username}@example.com`, role, passwordHash });
      if (created.status !== 'CREATED') throw new Error(`could not create ${username}: ${created.status}`);
      if (role === 'sysadmin') {
        // A verified back-up email, as the guide asks of every sysadmin: the faults run asks for codes by email.
        await queries.accounts.markEmailVerified(created.account.id, created.account.email);
        const secret = createTotpSecret();
        await queries.totp.connect(created.account.id, secret, setupStep);
        sysadmins.push({ username, secret, lastStep: setupStep });
      } else {
        users.push({ username, lastStep: 0 });
      }
    });
    const webClient = await addClient(queries, { name: 'Bench web', redirectUris: [REDIRECT_URI] });
    const serviceClient = await addClient(queries, { name: 'Bench service', grantTypes: ['client_credentials'], scope: 'openid' });
    return { sysadmins, users, webClient, serviceClient };
  } finally {
    await storage.close();
  }
}
