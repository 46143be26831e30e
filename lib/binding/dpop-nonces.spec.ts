import { DpopNonces } from './dpop-nonces';

describe('DpopNonces', () => {
  let now = 1_700_000_000_000;
  const nonces = new DpopNonces('s'.repeat(32), 60, () => now);

  it('issues the same nonce on every instance that shares the secret, and none on others', () => {
    const twin = new DpopNonces('s'.repeat(32), 60, () => now);
    const stranger = new DpopNonces('t'.repeat(32), 60, () => now);
    expect(twin.accepts(nonces.current())).toBe(true);
    expect(stranger.accepts(nonces.current())).toBe(false);
  });

  it("accepts the current step's nonce and the previous one's, then no more", () => {
    const first = nonces.current();
    now += 60_000;
    expect([nonces.accepts(first), nonces.isCurrent(first)]).toEqual([true, false]);
    expect(nonces.current()).not.toBe(first);
    now += 60_000;
    expect(nonces.accepts(first)).toBe(false);
  });

  it.each(['', 'x', 'a'.repeat(43), 'é'.repeat(43)])('refuses %p', (nonce) => {
    expect(nonces.accepts(nonce)).toBe(false);
  });
});
