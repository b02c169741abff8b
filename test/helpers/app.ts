// Starts the real Twofold app for flow tests: a fresh Postgres schema, a fresh Redis prefix, an ephemeral port.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Provider from 'oidc-provider';
import { createApp } from '../../src/app.js';
import { createMailer } from '../../src/mail/mailer.js';
import { loadConfig, type Config, type Lifetimes } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { loadProviderKeys } from '../../src/oidc/signing-keys.js';
import type { SigningKeyRingOptions } from '../../src/oidc/signing-key-ring.js';
import { openStorage, type Storage } from '../../src/storage/open-storage.js';
import type { Account, Queries, Role } from '../../src/storage/queries.js';
import { hashPassword } from '../../src/security/passwords.js';
import type { Clock } from '../../src/security/totp.js';
import { registerClient } from '../../src/clients/register-client.js';
import type { ClientInput } from '../../src/clients/client-input.js';
import { createClientSecretHasher, type ClientSecretHasher } from '../../src/security/client-secrets.js';
import { openTestDatabase, testDatabaseUrl } from './database.js';
import { deleteRedisPrefix } from './redis.js';
import { viewTemplates } from './templates.js';

export interface TestApp {
  issuer: string;
  config: Config;
  provider: Provider;
  storage: Storage;
  queries: Queries;
  /** Checks a client secret against its stored form, as the server does. */
  clientSecrets: ClientSecretHasher;
  close(): Promise<void>;
}

export function testRedisUrl(): string {
  return process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';
}

/**
 * Starts the app; `env` overrides any environment variable (e.g. DATABASE_URL through a fault proxy). With `join`,
 * it is a second node of that app: same schema, Redis prefix, secret key and issuer, which its close() leaves alone.
 * `signingKeys` sets how often the node reloads its signing keys, and its clock for them. `lifetimes` replaces lifetimes
 * after validation, for seconds-long sessions that the configuration rightly refuses.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  options: { clock?: Clock; join?: TestApp; signingKeys?: Omit<SigningKeyRingOptions, 'idTokenTtl'>; lifetimes?: Partial<Lifetimes> } = {},
): Promise<TestApp> {
  const join = options.join?.config;
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const issuer = `http://127.0.0.1:${port}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'twofold-test-'));
  const validated = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    ISSUER: issuer,
    DATABASE_URL: testDatabaseUrl(),
    DATABASE_SCHEMA: `t_${randomBytes(6).toString('hex')}`,
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: `test:${randomUUID()}:`,
    SECRET_KEY: randomBytes(32).toString('hex'),
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    ...(join ? { ISSUER: join.issuer, DATABASE_SCHEMA: join.databaseSchema, REDIS_PREFIX: join.redisPrefix, SECRET_KEY: join.secretKey!.toString('hex') } : {}),
    ...env,
  });
  const config: Config = options.lifetimes ? Object.freeze({ ...validated, lifetimes: Object.freeze({ ...validated.lifetimes, ...options.lifetimes }) }) : validated;
  const logger = createLogger(config.logLevel);
  const storage = await openStorage({ config, logger, secretKey: config.secretKey!, mode: 'server' });
  const keys = await loadProviderKeys(storage.queries, { idTokenTtl: config.lifetimes.idToken, logger, ...options.signingKeys });
  const templates = await viewTemplates();
  const mailer = createMailer({ smtpUrl: config.smtpUrl, mailFrom: config.mailFrom, dataDir: config.dataDir, logger, templates, issuer: config.issuer, timeoutMs: 2000 });
  const provider = createApp({ config, logger, queries: storage.queries, shortLived: storage.shortLived, redis: storage.redis, clientChanges: storage.clientChanges, keys, probes: storage.probes, secretKey: config.secretKey!, clock: options.clock, mailer, templates });
  server.on('request', provider.callback());

  return {
    issuer,
    config,
    provider,
    storage,
    queries: storage.queries,
    clientSecrets: createClientSecretHasher(config.secretKey!),
    async close() {
      keys.signing.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await storage.close();
      await rm(dataDir, { recursive: true, force: true });
      if (join) return;
      const database = await openTestDatabase(config.databaseSchema);
      await database.knex.raw('drop schema if exists ?? cascade', [config.databaseSchema]).finally(() => database.close());
      await deleteRedisPrefix(testRedisUrl(), config.redisPrefix);
    },
  };
}


/** Creates an account with a password. */
export async function createUser(app: TestApp, input: { username: string; password: string; role?: Role; name?: string; email?: string }): Promise<Account> {
  const result = await app.queries.accounts.create({
    username: input.username,
    name: input.name ?? `User ${input.username}`,
    email: input.email ?? `${input.username}@example.com`,
    role: input.role ?? 'user',
    passwordHash: await hashPassword(input.password),
  });
  if (result.status !== 'CREATED') throw new Error(`could not create ${input.username}: ${result.status}`);
  return result.account;
}

/** Registers a client the way the CLI does; returns its id and secret. */
export async function createClient(app: TestApp, input: Partial<ClientInput> = {}): Promise<{ clientId: string; clientSecret: string | undefined; redirectUri: string; postLogoutRedirectUri: string }> {
  const redirectUri = input.redirectUris?.[0] ?? 'http://localhost:3001/callback';
  const postLogoutRedirectUri = input.postLogoutRedirectUris?.[0] ?? 'http://localhost:3001/';
  const result = await registerClient(
    { queries: app.queries, validateMetadata: (metadata) => app.provider.Client.validate(metadata), production: false },
    {
      name: 'Test app',
      redirectUris: [redirectUri],
      postLogoutRedirectUris: [postLogoutRedirectUri],
      public: false,
      firstParty: true,
      grantTypes: ['authorization_code', 'refresh_token'],
      scope: 'openid profile email offline_access',
      authMethod: 'client_secret_basic',
      ...input,
    },
  );
  if (result.status !== 'CREATED') throw new Error(`could not register client: ${result.problems.join('; ')}`);
  return { clientId: result.clientId, clientSecret: result.clientSecret, redirectUri, postLogoutRedirectUri };
}
