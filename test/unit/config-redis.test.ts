// loadConfig for Redis Sentinel and Cluster and the Postgres pool: parsing, the combinations it refuses, production
// rules, the Cluster hash tag; and what a connection takes from REDIS_URL in those modes.
import { expect } from 'chai';
import { loadConfig } from '../../src/config.js';
import { hashTagged, parseRedisAddresses } from '../../src/config-redis.js';
import { dataNodeOptions, describeRedis } from '../../src/storage/short-lived/connect-redis.js';
import { problemsOf } from '../helpers/config-problems.js';

const PRODUCTION = {
  NODE_ENV: 'production',
  ISSUER: 'https://login.example.com',
  TRUST_PROXY: 'true',
  DATABASE_URL: 'postgres://twofold:pw@db.internal:5432/twofold',
  SECRET_KEY: 'ab'.repeat(32),
  SMTP_URL: 'smtp://mail.internal:587',
};

describe('loadConfig: Redis Sentinel, Redis Cluster, Postgres pool', function () {
  describe('one Redis server', function () {
    it('takes REDIS_URL as it is, with the prefix unchanged', function () {
      const config = loadConfig({ REDIS_URL: 'rediss://:pw@cache.internal:6380/1' });
      expect(config.redis).to.deep.equal({ mode: 'standalone', url: 'rediss://:pw@cache.internal:6380/1' });
      expect(config.redisPrefix).to.equal('twofold:');
    });

    it('refuses a REDIS_URL whose path is not a database number', function () {
      expect(problemsOf({ REDIS_URL: 'redis://cache.internal/sessions' })).to.deep.equal(['REDIS_URL: the path must be a database number, e.g. redis://redis.internal:6379/0']);
      expect(problemsOf({ REDIS_URL: 'redis://cache.internal/' })).to.deep.equal([]);
    });
  });

  describe('Sentinel', function () {
    it('reads the sentinels (26379 by default, IPv6 in brackets), the master name and the sentinels\' password', function () {
      const config = loadConfig({
        REDIS_SENTINELS: ' 10.0.0.5, 10.0.0.6:26380,[fd00::7]:26381,',
        REDIS_SENTINEL_NAME: 'twofold-master',
        REDIS_SENTINEL_PASSWORD: 'sentinel secret',
        REDIS_URL: 'rediss://twofold:pw@unused/3',
      });
      expect(config.redis).to.deep.equal({
        mode: 'sentinel',
        sentinels: [{ host: '10.0.0.5', port: 26379 }, { host: '10.0.0.6', port: 26380 }, { host: 'fd00::7', port: 26381 }],
        masterName: 'twofold-master',
        sentinelPassword: 'sentinel secret',
        url: 'rediss://twofold:pw@unused/3',
      });
      expect(config.redisPrefix).to.equal('twofold:');
      expect(Object.isFrozen(config.redis)).to.equal(true);
    });

    it('needs no REDIS_URL', function () {
      const config = loadConfig({ REDIS_SENTINELS: 'sentinel.internal', REDIS_SENTINEL_NAME: 'mymaster' });
      expect(config.redis).to.deep.equal({ mode: 'sentinel', sentinels: [{ host: 'sentinel.internal', port: 26379 }], masterName: 'mymaster', sentinelPassword: undefined, url: undefined });
    });

    it('requires the master name, and refuses one sentinel.conf would not accept', function () {
      expect(problemsOf({ REDIS_SENTINELS: 'sentinel.internal' })).to.deep.equal([
        'REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the master group name the sentinels monitor, as in "sentinel monitor <name> ...")',
      ]);
      expect(problemsOf({ REDIS_SENTINELS: 'sentinel.internal', REDIS_SENTINEL_NAME: 'my master' })).to.deep.equal([
        'REDIS_SENTINEL_NAME: must be the master group name the sentinels monitor (letters, digits, . _ -)',
      ]);
    });

    it('refuses a name or password without sentinels, which would be silently unused', function () {
      expect(problemsOf({ REDIS_URL: 'redis://cache.internal', REDIS_SENTINEL_NAME: 'mymaster', REDIS_SENTINEL_PASSWORD: 'pw' })).to.deep.equal([
        'REDIS_SENTINEL_NAME: only used with REDIS_SENTINELS (the sentinels\' host:port list); set that too, or remove REDIS_SENTINEL_NAME',
        'REDIS_SENTINEL_PASSWORD: only used with REDIS_SENTINELS (the sentinels\' host:port list); set that too, or remove REDIS_SENTINEL_PASSWORD',
      ]);
    });
  });

  describe('Cluster', function () {
    it('reads the seed nodes (6379 by default) and wraps the prefix in a hash tag', function () {
      const config = loadConfig({ REDIS_CLUSTER_NODES: 'node-1.internal:7000,node-2.internal', REDIS_URL: 'rediss://:pw@unused' });
      expect(config.redis).to.deep.equal({ mode: 'cluster', nodes: [{ host: 'node-1.internal', port: 7000 }, { host: 'node-2.internal', port: 6379 }], url: 'rediss://:pw@unused' });
      expect(config.redisPrefix).to.equal('{twofold}:');
      expect(loadConfig({ REDIS_CLUSTER_NODES: 'n', REDIS_PREFIX: 'idp.prod:' }).redisPrefix).to.equal('{idp.prod}:');
    });

    it('keeps a prefix that has a hash tag already, so the same prefix can be given again (a second node)', function () {
      expect(hashTagged('twofold:')).to.equal('{twofold}:');
      expect(hashTagged('twofold')).to.equal('{twofold}');
      expect(hashTagged(':')).to.equal('{:}');
      expect(hashTagged('{twofold}:')).to.equal('{twofold}:');
      expect(hashTagged('app:{tf}:')).to.equal('app:{tf}:');
      // Redis ignores an empty tag, so it is wrapped like any prefix.
      expect(hashTagged('a{}b:')).to.equal('{a{}b}:');
      const first = loadConfig({ REDIS_CLUSTER_NODES: 'n', REDIS_PREFIX: 'test:1:' }).redisPrefix;
      expect(loadConfig({ REDIS_CLUSTER_NODES: 'n', REDIS_PREFIX: first }).redisPrefix).to.equal(first);
    });

    it('refuses a database other than 0, which a cluster does not have', function () {
      expect(problemsOf({ REDIS_CLUSTER_NODES: 'n', REDIS_URL: 'redis://:pw@unused/2' })).to.deep.equal(['REDIS_URL: a Redis Cluster has only database 0; remove "/2" or use /0']);
      expect(problemsOf({ REDIS_CLUSTER_NODES: 'n', REDIS_URL: 'redis://:pw@unused/0' })).to.deep.equal([]);
    });

    it('refuses Sentinel and Cluster together', function () {
      expect(problemsOf({ REDIS_CLUSTER_NODES: 'n', REDIS_SENTINELS: 's', REDIS_SENTINEL_NAME: 'm' })).to.deep.equal([
        'REDIS_CLUSTER_NODES: cannot be combined with REDIS_SENTINELS; set REDIS_SENTINELS for Redis Sentinel or REDIS_CLUSTER_NODES for Redis Cluster',
      ]);
    });
  });

  describe('host:port lists', function () {
    it('refuses what is not host:port, naming the item', function () {
      expect(parseRedisAddresses('a:1,b:x', 6379)).to.equal('"b:x" is not host:port (e.g. 10.0.0.5:6379)');
      expect(parseRedisAddresses('a:70000', 6379)).to.equal('"a:70000" is not host:port (e.g. 10.0.0.5:6379)');
      expect(parseRedisAddresses('fd00::7', 26379)).to.equal('"fd00::7" is not host:port (e.g. 10.0.0.5:26379)');
      expect(parseRedisAddresses('redis://a:1', 6379)).to.equal('"redis://a:1" is not host:port (e.g. 10.0.0.5:6379)');
      expect(parseRedisAddresses(' , ', 6379)).to.equal('must list at least one host:port, e.g. 10.0.0.5:6379,10.0.0.6:6379');
    });

    it('treats an empty variable as unset', function () {
      expect(loadConfig({ REDIS_SENTINELS: ' ', REDIS_CLUSTER_NODES: '', REDIS_SENTINEL_NAME: '' }).redis).to.equal(undefined);
    });
  });

  describe('Postgres pool', function () {
    it('keeps 0 to 10 connections by default', function () {
      expect(loadConfig({}).databasePool).to.deep.equal({ min: 0, max: 10 });
    });

    it('reads DATABASE_POOL_MIN and DATABASE_POOL_MAX', function () {
      expect(loadConfig({ DATABASE_POOL_MIN: '2', DATABASE_POOL_MAX: '40' }).databasePool).to.deep.equal({ min: 2, max: 40 });
    });

    it('refuses sizes out of range, or a minimum above the maximum', function () {
      expect(problemsOf({ DATABASE_POOL_MAX: '0', DATABASE_POOL_MIN: 'two' })).to.deep.equal([
        'DATABASE_POOL_MAX: must be a whole number from 1 to 1000, got "0"',
        'DATABASE_POOL_MIN: must be a whole number from 0 to 1000, got "two"',
      ]);
      expect(problemsOf({ DATABASE_POOL_MAX: '1001' })).to.have.length(1);
      expect(problemsOf({ DATABASE_POOL_MAX: '2.5' })).to.have.length(1);
      expect(problemsOf({ DATABASE_POOL_MIN: '5', DATABASE_POOL_MAX: '4' })).to.deep.equal(['DATABASE_POOL_MIN: must not be more than DATABASE_POOL_MAX (4)']);
    });
  });

  describe('together and in production', function () {
    it('reports every Redis and pool problem at once, with the others', function () {
      const problems = problemsOf({ PORT: 'x', REDIS_SENTINELS: 'a:b', REDIS_CLUSTER_NODES: 'c', REDIS_SENTINEL_PASSWORD: 'pw', DATABASE_POOL_MAX: '0' });
      expect(problems.map((problem) => problem.split(':')[0]).sort()).to.deep.equal([
        'DATABASE_POOL_MAX', 'PORT', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS', 'REDIS_SENTINEL_NAME',
      ]);
    });

    it('accepts Sentinel or Cluster instead of REDIS_URL', function () {
      expect(problemsOf({ ...PRODUCTION, REDIS_SENTINELS: 's1,s2,s3', REDIS_SENTINEL_NAME: 'twofold' })).to.deep.equal([]);
      expect(problemsOf({ ...PRODUCTION, REDIS_CLUSTER_NODES: 'n1,n2,n3' })).to.deep.equal([]);
      expect(problemsOf(PRODUCTION)).to.deep.equal([
        'REDIS_URL: required in production (the in-process store is for development only); with Redis Sentinel or Cluster, set REDIS_SENTINELS or REDIS_CLUSTER_NODES instead',
      ]);
      // The missing name is still reported.
      expect(problemsOf({ ...PRODUCTION, REDIS_SENTINELS: 's1' })).to.have.length(1);
    });
  });

  describe('what the connection takes from REDIS_URL with Sentinel or Cluster', function () {
    it('user, password (decoded), database and TLS; not the host', function () {
      expect(dataNodeOptions('rediss://twofold:p%40ss%20word@unused:1234/2')).to.deep.equal({ username: 'twofold', password: 'p@ss word', db: 2, tls: {} });
      expect(dataNodeOptions('redis://:pw@unused')).to.deep.equal({ password: 'pw' });
      expect(dataNodeOptions(undefined)).to.deep.equal({});
    });

    it('logs where it connects without any password', function () {
      expect(describeRedis({ mode: 'standalone', url: 'redis://:hunter2@cache:6379/0' })).to.deep.equal({ redis: 'redis://cache:6379/0' });
      const sentinel = loadConfig({ REDIS_SENTINELS: 's1,[fd00::1]:26380', REDIS_SENTINEL_NAME: 'm', REDIS_SENTINEL_PASSWORD: 'hunter2', REDIS_URL: 'redis://:hunter2@x' }).redis!;
      expect(describeRedis(sentinel)).to.deep.equal({ redis: 'sentinel', sentinels: 's1:26379,[fd00::1]:26380', master: 'm' });
      const cluster = loadConfig({ REDIS_CLUSTER_NODES: 'n1:7000', REDIS_URL: 'redis://:hunter2@x' }).redis!;
      expect(JSON.stringify(describeRedis(cluster))).to.equal('{"redis":"cluster","nodes":"n1:7000"}');
    });
  });
});
