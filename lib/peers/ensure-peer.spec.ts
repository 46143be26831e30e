import { ensurePeer } from './ensure-peer';

describe('ensurePeer', () => {
  it('passes when the peer is installed', () => {
    expect(() => ensurePeer('@nestjs/common', 'nest-oauth2-bearer')).not.toThrow();
  });

  it('names the entry, the missing peer and the install command', () => {
    expect(() => ensurePeer('@example/not-installed-peer', 'nest-oauth2-bearer/example')).toThrow(
      'nest-oauth2-bearer/example needs the optional peer dependency @example/not-installed-peer, ' +
        'which is not installed: npm install @example/not-installed-peer',
    );
  });

  it('passes on any other failure of the peer as it is', () => {
    jest.doMock(
      '@example/broken-peer',
      () => {
        throw new Error('the peer failed while loading');
      },
      { virtual: true },
    );
    expect(() => ensurePeer('@example/broken-peer', 'nest-oauth2-bearer/example')).toThrow(
      'the peer failed while loading',
    );
  });

  it('passes on a missing module of the peer itself (not the peer) as it is', () => {
    jest.doMock(
      '@example/peer-with-a-missing-dependency',
      () => {
        throw Object.assign(new Error("Cannot find module 'left-pad'"), {
          code: 'MODULE_NOT_FOUND',
        });
      },
      { virtual: true },
    );
    expect(() =>
      ensurePeer('@example/peer-with-a-missing-dependency', 'nest-oauth2-bearer/example'),
    ).toThrow("Cannot find module 'left-pad'");
  });
});
