import { expect } from 'chai';
import { FRAMES_PER_TURN, FrameInbox } from '../../../src/replication/frame-inbox.ts';

const frame = (i: number): Uint8Array => Uint8Array.of(i & 255, i >> 8);

describe('FrameInbox (a peer actor turn takes a bounded number of frames)', () => {
  it('asks for a turn only when a frame lands in an empty inbox', () => {
    const inbox = new FrameInbox(4);
    expect(inbox.push(frame(0))).to.equal(true);
    expect(inbox.push(frame(1))).to.equal(false);
    expect(inbox.take()).to.deep.equal({ frames: [frame(0), frame(1)], more: false });
    expect(inbox.length).to.equal(0);
    expect(inbox.push(frame(2))).to.equal(true);
  });

  it('hands a burst over in turns of at most perTurn frames, in arrival order', () => {
    const inbox = new FrameInbox(64);
    const burst = Array.from({ length: 200 }, (_, i) => frame(i));
    let tells = 0;
    for (const f of burst) if (inbox.push(f)) tells++;
    const turns: number[] = [];
    const handled: Uint8Array[] = [];
    // the actor's loop: one FramesReceived per tell, each telling the next while frames are left
    while (tells > 0) {
      tells--;
      const { frames, more } = inbox.take();
      turns.push(frames.length);
      handled.push(...frames);
      if (more) tells++;
      // frames that arrive meanwhile join the queue without another tell
      if (handled.length === 64) expect(inbox.push(frame(200))).to.equal(false);
    }
    expect(turns).to.deep.equal([64, 64, 64, 9]);
    expect(handled).to.deep.equal([...burst, frame(200)]);
    expect(inbox.length).to.equal(0);
  });

  it('defaults to FRAMES_PER_TURN', () => {
    const inbox = new FrameInbox();
    for (let i = 0; i < FRAMES_PER_TURN + 1; i++) inbox.push(frame(i));
    const first = inbox.take();
    expect(first.frames).to.have.length(FRAMES_PER_TURN);
    expect(first.more).to.equal(true);
    expect(inbox.take()).to.deep.equal({ frames: [frame(FRAMES_PER_TURN)], more: false });
  });
});
