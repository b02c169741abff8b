// loadConfig: defaults, durations, every problem reported at once, production rules and SECRET_KEY formats.
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { ConfigError, decodeKey, loadConfig, parseDuration } from '../../src/config.js';
import { problemsOf } from '../helpers/config-problems.js';

// A production environment that passes every rule; each test removes or breaks one thing.
const PRODUCTION = {
  NODE_ENV: 'production',
  ISSUER: 'https://login.example.com',
  TRUST_PROXY: 'true',
  DATABASE_URL: 'postgres://twofold:pw@db.internal:5432/twofold',
  REDIS_URL: 'rediss://cache.internal:6380',
  SECRET_KEY: 'ab'.repeat(32),
  SMTP_URL: 'smtp://mail.internal:587',
};

describe('loadConfig', function () {
  describe('defaults', function () {
    it('runs in development on port 3000 with the embedded stores and ./data', function () {
      const config = loadConfig({});
      expect(config.nodeEnv).to.equal('development');
      expect(config.port).to.equal(3000);
      expect(config.host).to.equal('0.0.0.0');
      expect(config.issuer).to.equal('http://localhost:3000');
      expect(config.databaseUrl).to.equal(undefined);
      expect(config.redis).to.equal(undefined);
      expect(config.secretKey).to.equal(undefined);
      expect(config.databaseSchema).to.equal('public');
      expect(config.redisPrefix).to.equal('twofold:');
      expect(config.trustProxy).to.equal(false);
      expect(config.logLevel).to.equal('info');
      // An absolute path, so a later chdir cannot move the data.
      expect(config.dataDir).to.equal(path.resolve('data'));
      expect(path.isAbsolute(config.dataDir)).to.equal(true);
    });

    it('has short default lifetimes for privileged users', function () {
      expect(loadConfig({}).lifetimes).to.deep.equal({
        session: 8 * 3600,
        sessionIdle: 30 * 60,
        interaction: 30 * 60,
        authorizationCode: 60,
        accessToken: 10 * 60,
        idToken: 10 * 60,
        refreshToken: 8 * 3600,
        grant: 8 * 3600,
      });
    });

    it('derives the issuer from PORT, and takes ISSUER without its trailing slash', function () {
      expect(loadConfig({ PORT: '8443' }).issuer).to.equal('http://localhost:8443');
      expect(loadConfig({ PORT: '8443', ISSUER: 'https://id.example.com/', TRUST_PROXY: 'true' }).issuer).to.equal('https://id.example.com');
      expect(loadConfig({ ISSUER: 'https://example.com/sso//', TRUST_PROXY: 'true' }).issuer).to.equal('https://example.com/sso');
    });

    it('resolves a relative DATA_DIR against the working directory', function () {
      expect(loadConfig({ DATA_DIR: 'var/twofold' }).dataDir).to.equal(path.resolve('var/twofold'));
      expect(loadConfig({ DATA_DIR: '/srv/twofold' }).dataDir).to.equal('/srv/twofold');
    });

    it('returns a frozen config', function () {
      const config = loadConfig({});
      expect(Object.isFrozen(config)).to.equal(true);
      expect(Object.isFrozen(config.lifetimes)).to.equal(true);
      expect(() => ((config as { port: number }).port = 1)).to.throw(TypeError);
    });

    it('treats empty URLs as unset', function () {
      const config = loadConfig({ DATABASE_URL: '', REDIS_URL: ' ', SECRET_KEY: '' });
      expect([config.databaseUrl, config.redis, config.secretKey]).to.deep.equal([undefined, undefined, undefined]);
    });
  });

  describe('durations', function () {
    it('parses seconds, minutes, hours and days', function () {
      expect(parseDuration('90')).to.equal(90);
      expect(parseDuration('90s')).to.equal(90);
      expect(parseDuration('15m')).to.equal(900);
      expect(parseDuration('8h')).to.equal(28_800);
      expect(parseDuration('1d')).to.equal(86_400);
      expect(parseDuration(' 15m ')).to.equal(900);
    });

    it('refuses what is not a positive whole duration', function () {
      for (const bad of ['', 'm', '15 minutes', '1.5h', '-5m', '0', '0s', '15M', '8hours', '1w', 'eight hours', '9'.repeat(20)]) {
        expect(parseDuration(bad), JSON.stringify(bad)).to.equal(undefined);
      }
    });

    it('reads lifetimes from the environment', function () {
      const { lifetimes } = loadConfig({ SESSION_TTL: '15m', ACCESS_TOKEN_TTL: '5m', AUTHORIZATION_CODE_TTL: '30', GRANT_TTL: '1d' });
      expect(lifetimes.session).to.equal(900);
      expect(lifetimes.accessToken).to.equal(300);
      expect(lifetimes.authorizationCode).to.equal(30);
      expect(lifetimes.grant).to.equal(86_400);
    });

    it('names the variable and the problem for a bad or out-of-range duration', function () {
      expect(problemsOf({ SESSION_TTL: 'eight hours' })).to.deep.equal(['SESSION_TTL: "eight hours" is not a duration; use e.g. 90s, 15m, 8h or 1d']);
      expect(problemsOf({ SESSION_TTL: '1m' })).to.deep.equal(['SESSION_TTL: must be between 300s and 86400s, got 60s']);
      expect(problemsOf({ AUTHORIZATION_CODE_TTL: '1h' })).to.deep.equal(['AUTHORIZATION_CODE_TTL: must be between 10s and 600s, got 3600s']);
    });

    it('refuses a refresh token that outlives its grant', function () {
      expect(problemsOf({ REFRESH_TOKEN_TTL: '2d', GRANT_TTL: '1d' })).to.deep.equal(['REFRESH_TOKEN_TTL: must not be longer than GRANT_TTL']);
      expect(problemsOf({ REFRESH_TOKEN_TTL: '1d', GRANT_TTL: '1d' })).to.deep.equal([]);
    });

    it('reads the session idle timeout, from 1 minute to 1 hour', function () {
      expect(loadConfig({ SESSION_IDLE_TTL: '15m' }).lifetimes.sessionIdle).to.equal(900);
      expect(loadConfig({ SESSION_IDLE_TTL: '60s', SESSION_TTL: '5m' }).lifetimes).to.include({ sessionIdle: 60, session: 300 });
      expect(loadConfig({ SESSION_IDLE_TTL: '' }).lifetimes.sessionIdle).to.equal(1800);
      expect(problemsOf({ SESSION_IDLE_TTL: '59s' })).to.deep.equal(['SESSION_IDLE_TTL: must be between 60s and 3600s, got 59s']);
      expect(problemsOf({ SESSION_IDLE_TTL: '2h' })).to.deep.equal(['SESSION_IDLE_TTL: must be between 60s and 3600s, got 7200s']);
      expect(problemsOf({ SESSION_IDLE_TTL: 'half an hour' })).to.deep.equal(['SESSION_IDLE_TTL: "half an hour" is not a duration; use e.g. 90s, 15m, 8h or 1d']);
    });

    it('refuses an idle timeout longer than the absolute session lifetime, and by default keeps within it', function () {
      expect(problemsOf({ SESSION_IDLE_TTL: '1h', SESSION_TTL: '30m' })).to.deep.equal([
        'SESSION_IDLE_TTL: must not be longer than SESSION_TTL (1800s), got 3600s; a session ends SESSION_TTL after the login however it is used',
      ]);
      expect(loadConfig({ SESSION_IDLE_TTL: '30m', SESSION_TTL: '30m' }).lifetimes).to.include({ sessionIdle: 1800, session: 1800 });
      // Unset, it is 30 minutes, or SESSION_TTL when that is shorter: a short SESSION_TTL alone stays valid.
      expect(loadConfig({ SESSION_TTL: '10m' }).lifetimes).to.include({ sessionIdle: 600, session: 600 });
      expect(loadConfig({ SESSION_TTL: '1d' }).lifetimes).to.include({ sessionIdle: 1800, session: 86_400 });
    });
  });

  describe('metrics', function () {
    it('are off unless METRICS_PORT is set, and then on loopback unless METRICS_HOST says otherwise', function () {
      expect(loadConfig({}).metrics).to.equal(undefined);
      expect(loadConfig({ METRICS_PORT: '' }).metrics).to.equal(undefined);
      expect(loadConfig({ METRICS_PORT: '9464' }).metrics).to.deep.equal({ host: '127.0.0.1', port: 9464 });
      expect(loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }).metrics).to.deep.equal({ host: '0.0.0.0', port: 9464 });
    });

    it('refuses a METRICS_PORT that is not a port, or is the public one', function () {
      expect(problemsOf({ METRICS_PORT: '70000' })).to.include('METRICS_PORT: must be a port number from 1 to 65535, got "70000"');
      expect(problemsOf({ METRICS_PORT: 'nine' })).to.include('METRICS_PORT: must be a port number from 1 to 65535, got "nine"');
      expect(problemsOf({ PORT: '4000', METRICS_PORT: '4000' })).to.include('METRICS_PORT: must differ from PORT (4000); the metrics are served on a port of their own');
    });
  });

  describe('bad values', function () {
    it('reports every bad value at once, each with its variable name', function () {
      let error: unknown;
      try {
        loadConfig({
          NODE_ENV: 'staging',
          PORT: 'abc',
          LOG_LEVEL: 'loud',
          DATABASE_URL: 'mysql://x',
          REDIS_URL: 'http://cache',
          DATABASE_SCHEMA: 'Bad-Schema',
          SECRET_KEY: 'too-short',
          TRUST_PROXY: 'maybe',
          SESSION_TTL: 'forever',
          MAIL_FROM: 'not an address',
        });
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(ConfigError);
      const { problems, message } = error as ConfigError;
      const keys = problems.map((problem) => problem.split(':')[0]).sort();
      expect(keys).to.deep.equal(['DATABASE_SCHEMA', 'DATABASE_URL', 'LOG_LEVEL', 'MAIL_FROM', 'NODE_ENV', 'PORT', 'REDIS_URL', 'SECRET_KEY', 'SESSION_TTL', 'TRUST_PROXY']);
      expect(problems).to.include('PORT: must be a port number from 1 to 65535, got "abc"');
      expect(problems).to.include('TRUST_PROXY: must be true or false, got "maybe"');
      // The message lists them all, one per line, for stderr.
      expect(message.split('\n')).to.have.length(problems.length + 1);
      expect(message).to.match(/^Invalid configuration:\n {2}- /);
    });

    it('refuses ports outside 1-65535', function () {
      for (const port of ['0', '65536', '-1', '80.5', ' 80']) expect(problemsOf({ PORT: port }), port).to.have.length(1);
      expect(loadConfig({ PORT: '65535' }).port).to.equal(65535);
    });

    it('refuses an issuer with a query or fragment, or that is not http(s)', function () {
      expect(problemsOf({ ISSUER: 'https://id.example.com/?tenant=a', TRUST_PROXY: 'true' })).to.deep.equal(['ISSUER: must not contain a query or fragment']);
      expect(problemsOf({ ISSUER: 'https://id.example.com/#x', TRUST_PROXY: 'true' })).to.deep.equal(['ISSUER: must not contain a query or fragment']);
      expect(problemsOf({ ISSUER: 'ftp://id.example.com' })).to.have.length(1);
    });

    it('refuses an https issuer without TRUST_PROXY, in every mode: only a trusted proxy can tell a request came over https', function () {
      for (const NODE_ENV of ['development', 'test']) {
        const [problem, ...more] = problemsOf({ NODE_ENV, ISSUER: 'https://id.example.com' });
        expect(more).to.deep.equal([]);
        expect(problem).to.match(/^TRUST_PROXY: must be true when ISSUER is https; .*X-Forwarded-Proto/);
      }
      expect(problemsOf({ ...PRODUCTION, TRUST_PROXY: 'false' })).to.have.length(1);
      expect(problemsOf({ ISSUER: 'http://localhost:3000' }), 'an http issuer needs no proxy').to.deep.equal([]);
    });

    it('accepts the boolean spellings people use', function () {
      for (const yes of ['1', 'true', 'YES', 'on']) expect(loadConfig({ TRUST_PROXY: yes }).trustProxy, yes).to.equal(true);
      for (const no of ['0', 'false', 'No', 'off']) expect(loadConfig({ TRUST_PROXY: no }).trustProxy, no).to.equal(false);
    });
  });

  describe('production', function () {
    it('accepts a complete production environment', function () {
      const config = loadConfig(PRODUCTION);
      expect(config.nodeEnv).to.equal('production');
      expect(config.secretKey?.equals(Buffer.alloc(32, 0xab))).to.equal(true);
    });

    it('refuses the embedded development defaults, all at once', function () {
      expect(problemsOf({ NODE_ENV: 'production' })).to.deep.equal([
        'DATABASE_URL: required in production (the embedded Postgres is for development only)',
        'REDIS_URL: required in production (the in-process store is for development only); with Redis Sentinel or Cluster, set REDIS_SENTINELS or REDIS_CLUSTER_NODES instead',
        'SECRET_KEY: required in production (32 random bytes, e.g. openssl rand -hex 32)',
        'SMTP_URL: required in production (back-up codes and security notices are sent by email; the development outbox is for development only)',
      ]);
    });

    it('reports missing production settings together with format errors elsewhere', function () {
      const problems = problemsOf({ NODE_ENV: 'production', PORT: 'abc', REDIS_URL: 'rediss://cache.internal:6380' });
      expect(problems).to.have.length(4);
      expect(problems[0]).to.match(/^PORT: /);
      expect(problems.slice(1).map((p) => p.split(':')[0])).to.deep.equal(['DATABASE_URL', 'SECRET_KEY', 'SMTP_URL']);
    });

    it('requires each production setting on its own', function () {
      for (const key of ['DATABASE_URL', 'REDIS_URL', 'SECRET_KEY', 'SMTP_URL'] as const) {
        const env: NodeJS.ProcessEnv = { ...PRODUCTION };
        delete env[key];
        const problems = problemsOf(env);
        expect(problems, key).to.have.length(1);
        expect(problems[0], key).to.match(new RegExp(`^${key}: required in production`));
      }
    });

    it('requires https for a public issuer, but allows http on localhost', function () {
      expect(problemsOf({ ...PRODUCTION, ISSUER: 'http://login.example.com' })).to.deep.equal(['ISSUER: must use https in production']);
      expect(problemsOf({ ...PRODUCTION, ISSUER: 'http://localhost:3000' })).to.deep.equal([]);
      expect(problemsOf({ ...PRODUCTION, ISSUER: 'http://127.0.0.1:3000' })).to.deep.equal([]);
      // Without ISSUER the issuer is http://localhost:PORT, which is allowed (a local trial of production mode).
      const { ISSUER: _ignored, ...withoutIssuer } = PRODUCTION;
      expect(problemsOf(withoutIssuer)).to.deep.equal([]);
    });

    it('does not apply production rules in development or test', function () {
      expect(problemsOf({ NODE_ENV: 'test' })).to.deep.equal([]);
      expect(problemsOf({ NODE_ENV: 'development', ISSUER: 'http://login.example.com' })).to.deep.equal([]);
    });
  });

  describe('SECRET_KEY', function () {
    const key = randomBytes(32);

    it('accepts 64 hex characters, in either case', function () {
      expect(loadConfig({ SECRET_KEY: key.toString('hex') }).secretKey?.equals(key)).to.equal(true);
      expect(loadConfig({ SECRET_KEY: key.toString('hex').toUpperCase() }).secretKey?.equals(key)).to.equal(true);
    });

    it('accepts base64 (padded) and base64url (unpadded)', function () {
      expect(key.toString('base64')).to.have.length(44);
      expect(loadConfig({ SECRET_KEY: key.toString('base64') }).secretKey?.equals(key)).to.equal(true);
      expect(loadConfig({ SECRET_KEY: key.toString('base64url') }).secretKey?.equals(key)).to.equal(true);
      expect(decodeKey(` ${key.toString('hex')}\n`)?.equals(key), 'trailing newline of a key file').to.equal(true);
    });

    it('refuses a key of the wrong length or alphabet, with a hint', function () {
      for (const bad of [
        randomBytes(31).toString('hex'),
        randomBytes(33).toString('hex'),
        randomBytes(16).toString('base64'),
        randomBytes(48).toString('base64'),
        `${key.toString('hex').slice(0, 63)}g`,
        'correct horse battery staple correct horse battery staple 12345',
      ]) {
        expect(decodeKey(bad), bad).to.equal(undefined);
        expect(problemsOf({ SECRET_KEY: bad }), bad).to.deep.equal(['SECRET_KEY: must be 32 random bytes, as 64 hex characters or base64 (try: openssl rand -hex 32)']);
      }
    });

    it('never echoes the key in the problem', function () {
      const almost = randomBytes(31).toString('hex');
      expect(problemsOf({ SECRET_KEY: almost }).join('\n')).not.to.contain(almost);
    });
  });
});
