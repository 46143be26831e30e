import type { ExecutionContext } from '@nestjs/common';
import { rpcFace } from './rpc.face';

const rpcContext = (data: unknown, transport: unknown) =>
  ({
    switchToRpc: () => ({ getData: () => data, getContext: () => transport }),
  }) as ExecutionContext;

describe('rpcFace.carrier', () => {
  it('keeps one carrier per transport context, never the payload itself', () => {
    const transport = {};
    const data = { user: { sub: 'admin' } };
    const carrier = rpcFace.carrier(rpcContext(data, transport));
    expect(carrier).not.toBe(data);
    expect(carrier.user).toBeUndefined();
    expect(rpcFace.carrier(rpcContext(data, transport))).toBe(carrier);
  });

  it('falls back on the payload object, then on a carrier of its own', () => {
    const data = {};
    expect(rpcFace.carrier(rpcContext(data, undefined))).toBe(
      rpcFace.carrier(rpcContext(data, 'x')),
    );
    expect(rpcFace.carrier(rpcContext('text', undefined))).toEqual({});
  });
});
