import type { ExecutionContext } from '@nestjs/common';
import { resolveAuthOptions } from '../options/resolve-auth-options';
import { handshakeTokenSource, rememberUpgrade, wsFace } from './ws.face';

const options = resolveAuthOptions({
  issuerUrl: 'https://tenant.example.com/',
  audience: 'https://api.example.com',
});
const context = {} as ExecutionContext;

describe('handshakeTokenSource', () => {
  it('takes the first of a repeated Authorization header and counts them all', () => {
    const socket = { handshake: { headers: { authorization: ['Bearer a', 'Bearer b'] } } };
    expect(handshakeTokenSource(socket)).toEqual({
      authorization: 'Bearer a',
      authorizationHeaders: 2,
    });
  });

  it('adds Bearer to a bare auth.token and counts a header beside it as a second method', () => {
    const socket = {
      handshake: { headers: { authorization: 'Bearer h' }, auth: { token: 'abc' } },
      request: { rawHeaders: ['Authorization', 'Bearer h'] },
    };
    expect(handshakeTokenSource(socket)).toEqual({
      authorization: 'Bearer abc',
      authorizationHeaders: 2,
    });
  });
});

describe('wsFace.tokenSource', () => {
  it('gives a ws client the source remembered from its upgrade, and none to a stranger', () => {
    const known = {};
    rememberUpgrade(known, { authorization: 'Bearer t', authorizationHeaders: 1 });
    expect(wsFace.tokenSource(known, context, options)).toEqual({
      authorization: 'Bearer t',
      authorizationHeaders: 1,
    });
    expect(wsFace.tokenSource({}, context, options)).toEqual({});
  });
});
