// The send timer paces a pretended email-code send like the real ones, so neither answer is quicker.
import { expect } from 'chai';
import { createSendTimer } from '../../src/interactions/email-code/send-email-code.js';

describe('send timer', function () {
  it('starts from the initial time, within its jitter of ±10%', function () {
    const timer = createSendTimer(100);
    for (let i = 0; i < 50; i++) expect(timer.typicalMs()).to.be.within(90, 110);
  });

  it('follows the recent sends', function () {
    const timer = createSendTimer(100);
    for (let i = 0; i < 40; i++) timer.record(400);
    expect(timer.typicalMs()).to.be.within(360, 440);
  });

  it('moves only a little on one slow send, and never above 2 seconds', function () {
    const timer = createSendTimer(100);
    timer.record(60_000);
    expect(timer.typicalMs()).to.be.within(0.9 * 480, 1.1 * 480);
    for (let i = 0; i < 60; i++) timer.record(60_000);
    expect(timer.typicalMs()).to.be.at.most(2_200);
  });
});
