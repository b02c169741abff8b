// `twofold clients token`: issues an initial access token into the server's Redis, through a Provider like the server's.
import Provider from 'oidc-provider';
import { pino } from 'pino';
import { issueInitialAccessToken, type IatExpiry, type IssuedToken } from '../clients/issue-initial-access-token.js';
import type { Config } from '../config.js';
import { buildConfiguration } from '../oidc/configuration.js';
import { createClientFinder } from '../oidc/find-client.js';
import { loadProviderKeys } from '../oidc/signing-keys.js';
import { CLI_ORIGIN, createAuditLog } from '../security/audit.js';
import { createOidcAdapter } from '../storage/oidc-adapter.js';
import type { Queries } from '../storage/queries.js';
import { connectRedis } from '../storage/short-lived/connect-redis.js';
import { createRedisStore } from '../storage/short-lived/redis-store.js';

const notServing = async (): Promise<never> => {
  throw new Error('the CLI provider only issues initial access tokens; it serves no requests');
};

/**
 * Issues the token the way the console does, but from the CLI: the Provider has the server's configuration and the
 * Redis-backed adapter, so the token lands where the server's registration endpoint looks for it (hashed, with
 * Twofold's registration policy). The issue is audited with the CLI as its source.
 */
export async function issueInitialAccessTokenFromCli(deps: { config: Config; queries: Queries }, expiry: IatExpiry): Promise<IssuedToken> {
  const { config } = deps;
  if (!config.redis) throw new Error('Redis is not configured (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)');
  const store = createRedisStore(connectRedis(config.redis), { prefix: config.redisPrefix });
  try {
    const provider = new Provider(
      config.issuer,
      buildConfiguration({
        config,
        keys: await loadProviderKeys(deps.queries, { idTokenTtl: config.lifetimes.idToken }),
        adapter: createOidcAdapter(store, { clientFinder: createClientFinder(deps.queries) }),
        findAccount: async () => undefined,
        renderError: notServing,
        logoutSource: notServing,
        postLogoutSuccessSource: notServing,
        policy: { hasTotp: async () => false },
      }),
    );
    const issued = await issueInitialAccessToken({ provider, queries: deps.queries }, expiry, { accountId: null, via: 'cli' });
    const audit = createAuditLog(deps.queries, pino({ level: 'silent' }));
    await audit.record('initial_access_token.issued', CLI_ORIGIN, null, {
      reference: issued.reference, expiresAt: issued.expiresAt.toISOString(), via: 'cli',
    });
    return issued;
  } finally {
    await store.close();
  }
}
