import { expect } from 'chai';
import {
  bestLinkCost,
  HOP_COST,
  MAX_QUALITY_PENALTY,
  qualityPenalty,
  UNMEASURED_PENALTY,
} from '../../../src/routing/best-cost.ts';

describe('best policy link cost', () => {
  it('is the hop cost plus 10 per halving of the value below 1024, at most 100', () => {
    expect(qualityPenalty(1024)).to.equal(0);
    expect(qualityPenalty(5000)).to.equal(0);
    expect(qualityPenalty(Infinity)).to.equal(0);
    expect(qualityPenalty(1023.9)).to.equal(1);
    expect(qualityPenalty(512)).to.equal(10);
    expect(qualityPenalty(511.9)).to.equal(11);
    expect(qualityPenalty(2)).to.equal(90);
    expect(qualityPenalty(1)).to.equal(100);
    expect(qualityPenalty(1e-9)).to.equal(MAX_QUALITY_PENALTY);
    expect(bestLinkCost(1024)).to.equal(HOP_COST);
    expect(bestLinkCost(1)).to.equal(HOP_COST + MAX_QUALITY_PENALTY);
  });

  it('gives unmeasured links (value 0) a bounded penalty, never Infinity', () => {
    for (const v of [0, -0, NaN, -3]) {
      expect(qualityPenalty(v)).to.equal(UNMEASURED_PENALTY);
      expect(bestLinkCost(v)).to.equal(HOP_COST + UNMEASURED_PENALTY);
    }
  });

  it('is an integer that never decreases as the value falls', () => {
    let last = -1;
    for (let v = 4096; v > 1e-3; v *= 0.97) {
      const c = bestLinkCost(v);
      expect(Number.isInteger(c)).to.equal(true);
      expect(c).to.be.at.least(last);
      last = c;
    }
  });
});
