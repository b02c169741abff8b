// Redis commands of one round of the event loop leave in one write: on a plain socket, and on connectRedis's clients.
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { setImmediate as nextRound } from 'node:timers/promises';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { coalesceWrites } from '../../src/storage/short-lived/coalesce-writes.js';
import { connectRedis } from '../../src/storage/short-lived/connect-redis.js';
import { testRedisUrl } from '../helpers/app.js';

describe('coalesced Redis writes', function () {
  describe('coalesceWrites on a socket', function () {
    let server: Server;
    let received = '';
    let socket: Socket;

    before(async function () {
      server = createServer((peer) => peer.on('data', (chunk: Buffer) => (received += chunk.toString())));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
    });
    after(function () {
      server.close();
    });
    beforeEach(async function () {
      received = '';
      socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      await once(socket, 'connect');
      coalesceWrites(socket);
    });
    afterEach(function () {
      socket.destroy();
    });

    const arrived = async (expected: string) => {
      for (let i = 0; i < 100 && received.length < expected.length; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(received).to.equal(expected);
    };

    it('holds the writes of one round and sends them, in order, at its end', async function () {
      socket.write('one ');
      socket.write('two ');
      socket.write('three ');
      expect(socket.writableCorked, 'corked within the round').to.equal(1);
      expect(socket.writableLength, 'all three held').to.equal('one two three '.length);
      await nextRound();
      expect(socket.writableCorked, 'uncorked after the round').to.equal(0);
      await arrived('one two three ');
    });

    it('corks again in a later round, and never holds a write past its round', async function () {
      socket.write('a');
      await nextRound();
      socket.write('b');
      expect(socket.writableCorked).to.equal(1);
      await nextRound();
      expect(socket.writableCorked).to.equal(0);
      expect(socket.writableLength).to.equal(0);
      await arrived('ab');
    });

    it('passes the write callback and its return value through', async function () {
      let written = false;
      expect(socket.write('x', () => (written = true))).to.equal(true);
      await nextRound();
      await arrived('x');
      expect(written).to.equal(true);
    });
  });

  describe('connectRedis', function () {
    let client: Redis;

    beforeEach(async function () {
      client = connectRedis(testRedisUrl());
      await once(client, 'ready');
    });
    afterEach(function () {
      client.disconnect();
    });

    it('sends the commands of one round together, and they run in the order given', async function () {
      const key = `coalesce-test:${process.pid}:${Date.now()}`;
      const replies = [client.set(key, 'first', 'EX', 60), client.append(key, '+second'), client.get(key), client.del(key)];
      expect(client.stream.writableCorked, 'the commands wait for the end of the round').to.equal(1);
      expect(await Promise.all(replies)).to.deep.equal(['OK', 12, 'first+second', 1]);
    });

    it('coalesces the writes of the new socket after a reconnection', async function () {
      const first = client.stream;
      client.disconnect(true);
      await once(client, 'ready');
      expect(client.stream).not.to.equal(first);
      const reply = client.ping();
      expect(client.stream.writableCorked).to.equal(1);
      expect(await reply).to.equal('PONG');
    });
  });
});
