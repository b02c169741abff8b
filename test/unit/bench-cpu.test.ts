// The bench's CPU accounting: process by process, so a Postgres backend that exits mid-run costs only its own share.
import { expect } from 'chai';
import { cpuBetween, clockTicks, type CpuReading } from '../../bench/metrics.js';

const reading = (entries: [pid: number, store: 'twofold' | 'postgres' | 'redis', ticks: number][]): CpuReading => ({
  ticks: new Map(entries.map(([pid, store, ticks]) => [pid, { store, ticks }])),
});

describe('bench CPU accounting', function () {
  const hz = clockTicks();

  it('adds up what each process used between the readings', function () {
    const used = cpuBetween(reading([[1, 'twofold', 100], [2, 'postgres', 50], [3, 'redis', 10]]), reading([[1, 'twofold', 100 + hz], [2, 'postgres', 50 + hz / 2], [3, 'redis', 10 + hz / 4]]));
    expect(used).to.deep.equal({ twofold: 1, postgres: 0.5, redis: 0.25 });
  });

  it('keeps the other backends when one exits in between', function () {
    // Backend 2 ran for a long time before and exits during the run: the sum over backends falls, their work does not.
    const used = cpuBetween(reading([[2, 'postgres', 40 * hz], [4, 'postgres', 10]]), reading([[4, 'postgres', 10 + hz]]));
    expect(used.postgres).to.equal(1);
  });

  it('counts a process that started in between from zero', function () {
    const used = cpuBetween(reading([[4, 'postgres', 10]]), reading([[4, 'postgres', 10], [5, 'postgres', hz * 2]]));
    expect(used.postgres).to.equal(2);
  });
});
