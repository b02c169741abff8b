// Throwaway Redis deployments for tests: a Sentinel setup (master, replica, one sentinel), a three-master Cluster and a
// TLS-only server, each of real redis-server processes on free ports in a temporary directory, stopped and removed afterwards.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePorts } from './ports.js';

const run = promisify(execFile);
const REDIS_SERVER = process.env['REDIS_SERVER'] ?? 'redis-server';
const REDIS_CLI = process.env['REDIS_CLI'] ?? 'redis-cli';
const START_TIMEOUT_MS = 10_000;

// Servers still running when the test process exits (a crash, an interrupted run) are not left behind.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** One redis-server (or sentinel) process. */
export interface RedisProcess {
  port: number;
  /** A connection to it (with its password) that reconnects for a few seconds when cut, closed by stop(). */
  client(): Redis;
  /** Runs one command on it and returns the reply. */
  call(...args: (string | number)[]): Promise<unknown>;
  /** Ends the process (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
}

export interface SentinelSetup {
  /** With tls: the self-signed certificate every server presents (PEM), for NODE_EXTRA_CA_CERTS. */
  caFile: string | undefined;
  /** The master group name the sentinel monitors. */
  name: string;
  master: RedisProcess;
  replica: RedisProcess;
  sentinel: RedisProcess;
  /** Waits until the replica has every write the master has. */
  synced(): Promise<void>;
  /** Makes the sentinel promote the replica now, and waits until it names the replica as master. */
  failover(): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterSetup {
  /** With tls: the self-signed certificate every node presents (PEM), for NODE_EXTRA_CA_CERTS. */
  caFile: string | undefined;
  nodes: RedisProcess[];
  /** host:port of every node, comma-separated (REDIS_CLUSTER_NODES). */
  seeds: string;
  stop(): Promise<void>;
}

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== undefined && result !== false) return result;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

type ProcessOptions = { password?: string; sentinel?: boolean; tls?: { certFile: string; keyFile: string; cert: Buffer } };

/**
 * Starts redis-server with `config` lines (port, dir and log are added) and waits until it answers PING. With `tls`
 * (files in PEM), it listens on the port with TLS only, and its clients trust that certificate. `config` gets the
 * port and `extraPorts` more free ports (a cluster bus port, say). A port another process took between being chosen
 * and being bound (an outgoing connection can take any ephemeral port) makes it start again on new ones.
 */
async function startProcess(
  dir: string,
  name: string,
  config: string[] | ((extraPorts: number[]) => string[]),
  options: ProcessOptions & { extraPorts?: number } = {},
): Promise<RedisProcess> {
  for (let attempt = 1; ; attempt++) {
    const [port, ...extraPorts] = await freePorts(1 + (options.extraPorts ?? 0)) as [number, ...number[]];
    try {
      return await startOnPorts(dir, name, typeof config === 'function' ? config(extraPorts) : config, port, options);
    } catch (err) {
      if (attempt === 3 || !/Address already in use/.test((err as Error).message)) throw err;
    }
  }
}

async function startOnPorts(dir: string, name: string, config: string[], port: number, options: ProcessOptions): Promise<RedisProcess> {
  const confFile = path.join(dir, `${name}.conf`);
  const logFile = path.join(dir, `${name}.log`);
  const listen = options.tls
    ? ['port 0', `tls-port ${port}`, `tls-cert-file ${options.tls.certFile}`, `tls-key-file ${options.tls.keyFile}`, `tls-ca-cert-file ${options.tls.certFile}`, 'tls-auth-clients no']
    : [`port ${port}`];
  await writeFile(confFile, [
    ...listen, 'bind 127.0.0.1', `dir ${dir}`, `logfile ${logFile}`, 'save ""', 'appendonly no', ...config,
  ].join('\n') + '\n');
  const tls = options.tls ? { tls: { ca: options.tls.cert } } : {};
  let child: ChildProcess;
  try {
    child = spawn(REDIS_SERVER, options.sentinel ? [confFile, '--sentinel'] : [confFile], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } catch (err) {
    throw new Error(`These tests start their own Redis servers and need ${REDIS_SERVER} (apt-get install redis-server)`, { cause: err });
  }
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    running.delete(child);
    resolve();
  }));
  const clients: Redis[] = [];
  const client = () => {
    // Reconnects for a while: a failover closes the connections of the servers it reconfigures.
    const redis = new Redis({ port, host: '127.0.0.1', password: options.password, ...tls, maxRetriesPerRequest: 1, retryStrategy: (attempt) => (attempt > 20 ? null : 100) });
    redis.on('error', () => {});
    clients.push(redis);
    return redis;
  };
  try {
    await until(`${name} on port ${port} answering`, START_TIMEOUT_MS, async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
      const probe = new Redis({ port, host: '127.0.0.1', password: options.password, ...tls, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {});
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } finally {
        probe.disconnect();
      }
    });
  } catch (err) {
    const log = await readFile(logFile, 'utf8').catch(() => '');
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${log.split('\n').slice(-15).join('\n')}`);
  }
  const admin = client();
  const call = (...args: (string | number)[]) => admin.call(String(args[0]), ...args.slice(1));
  return {
    port,
    client,
    call,
    async stop() {
      for (const redis of clients) redis.disconnect();
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

async function stopAll(processes: RedisProcess[], dir: string): Promise<void> {
  await Promise.allSettled(processes.map((p) => p.stop()));
  await rm(dir, { recursive: true, force: true });
}

function pairs(list: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) record[list[i]!] = list[i + 1]!;
  return record;
}

function info(text: unknown): Record<string, string> {
  return Object.fromEntries(String(text).split(/\r?\n/).filter((line) => line.includes(':')).map((line) => {
    const at = line.indexOf(':');
    return [line.slice(0, at), line.slice(at + 1)];
  }));
}

/**
 * A master and its replica, both requiring `password`, watched by one sentinel (quorum 1) that requires
 * `sentinelPassword`: enough for Sentinel to name the master, and to fail over to the replica on request.
 */
export async function startSentinelSetup(options: { password: string; sentinelPassword: string; name?: string; tls?: boolean }): Promise<SentinelSetup> {
  const name = options.name ?? 'twofold';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'twofold-sentinel-'));
  const started: RedisProcess[] = [];
  try {
    // With tls, every server and the sentinel speak TLS only, replication and monitoring included.
    const tls = options.tls ? await makeCertificate(dir) : undefined;
    const tlsLines = tls ? ['tls-replication yes'] : [];
    // No delay before a full sync (Redis waits 5 s by default for more replicas to join it).
    const auth = [`requirepass "${options.password}"`, `masterauth "${options.password}"`, 'repl-diskless-sync-delay 0', ...tlsLines];
    const master = await startProcess(dir, 'master', auth, { password: options.password, tls });
    started.push(master);
    const replica = await startProcess(dir, 'replica', [...auth, `replicaof 127.0.0.1 ${master.port}`], { password: options.password, tls });
    started.push(replica);
    await until('the replica in sync', START_TIMEOUT_MS, async () => info(await replica.call('INFO', 'replication'))['master_link_status'] === 'up');
    const sentinel = await startProcess(dir, 'sentinel', [
      `requirepass "${options.sentinelPassword}"`,
      `sentinel monitor ${name} 127.0.0.1 ${master.port} 1`,
      `sentinel auth-pass ${name} "${options.password}"`,
      `sentinel down-after-milliseconds ${name} 2000`,
      `sentinel failover-timeout ${name} 10000`,
      // Named here, the replica is watched at once instead of after the master's next INFO (every 10 s).
      `sentinel known-replica ${name} 127.0.0.1 ${replica.port}`,
      ...tlsLines,
    ], { password: options.sentinelPassword, sentinel: true, tls });
    started.push(sentinel);
    // A failover needs a replica the sentinel has heard from and sees linked to the master.
    await until('the sentinel seeing the replica', START_TIMEOUT_MS, async () => {
      const replicas = (await sentinel.call('SENTINEL', 'REPLICAS', name) as string[][]).map(pairs);
      return replicas.length === 1 && replicas[0]!['flags'] === 'slave' && replicas[0]!['master-link-status'] === 'ok';
    });
    const masterPort = async () => Number((await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name) as string[])[1]);
    const setup: SentinelSetup = {
      caFile: tls?.certFile,
      name,
      master,
      replica,
      sentinel,
      async synced() {
        const current = (await masterPort()) === master.port ? master : replica;
        const other = current === master ? replica : master;
        await until('the replica in sync', START_TIMEOUT_MS, async () => {
          const offset = info(await current.call('INFO', 'replication'))['master_repl_offset'];
          return info(await other.call('INFO', 'replication'))['slave_repl_offset'] === offset;
        });
      },
      async failover() {
        const before = await masterPort();
        await sentinel.call('SENTINEL', 'FAILOVER', name);
        await until('the failover', 15_000, async () => (await masterPort()) !== before);
      },
      stop: () => stopAll(started, dir),
    };
    return setup;
  } catch (err) {
    await stopAll(started, dir);
    throw err;
  }
}

/** Three masters with `cluster-enabled yes` and `password`, joined with redis-cli --cluster create, no replicas. */
export async function startClusterSetup(options: { password: string; tls?: boolean }): Promise<ClusterSetup> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'twofold-cluster-'));
  const nodes: RedisProcess[] = [];
  try {
    // With tls, clients, the cluster bus and replication all speak TLS only.
    const tls = options.tls ? await makeCertificate(dir) : undefined;
    for (const index of [1, 2, 3]) {
      nodes.push(await startProcess(dir, `node${index}`, ([busPort]) => [
        'cluster-enabled yes',
        `cluster-config-file nodes-${busPort}.conf`,
        `cluster-port ${busPort}`,
        'cluster-node-timeout 5000',
        `requirepass "${options.password}"`,
        `masterauth "${options.password}"`,
        ...(tls ? ['tls-cluster yes', 'tls-replication yes'] : []),
      ], { password: options.password, tls, extraPorts: 1 }));
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    const cliTls = tls ? ['--tls', '--cacert', tls.certFile] : [];
    try {
      await run(REDIS_CLI, [...cliTls, '-a', options.password, '--no-auth-warning', '--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 20_000 });
    } catch (err) {
      const { stdout, stderr } = err as { stdout?: string; stderr?: string };
      throw new Error(`redis-cli --cluster create failed: ${stderr || stdout || String(err)}`, { cause: err });
    }
    await until('cluster_state:ok on every node', 15_000, async () => {
      for (const node of nodes) {
        const state = info(await node.call('CLUSTER', 'INFO'));
        if (state['cluster_state'] !== 'ok' || state['cluster_known_nodes'] !== '3' || state['cluster_slots_assigned'] !== '16384') return false;
      }
      return true;
    });
    return { nodes, seeds: addresses.join(','), caFile: tls?.certFile, stop: () => stopAll(nodes, dir) };
  } catch (err) {
    await stopAll(nodes, dir);
    throw err;
  }
}

export interface TlsRedis {
  server: RedisProcess;
  /** The server's self-signed certificate (PEM), for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  stop(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1 in `dir`, made by openssl. */
async function makeCertificate(dir: string): Promise<{ certFile: string; keyFile: string; cert: Buffer }> {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  try {
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  } catch (err) {
    throw new Error('These tests make a certificate with openssl (apt-get install openssl)', { cause: err });
  }
  return { certFile, keyFile, cert: await readFile(certFile) };
}

/** A redis-server that speaks TLS only, with a self-signed certificate for 127.0.0.1. */
export async function startTlsRedis(): Promise<TlsRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'twofold-redis-tls-'));
  try {
    const tls = await makeCertificate(dir);
    const server = await startProcess(dir, 'tls', [], { tls });
    return { server, caFile: tls.certFile, stop: () => stopAll([server], dir) };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
