import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthUser } from '../token/auth-user';
import { Scopes } from '../decorators/scopes.decorator';
import type { UserinfoService } from '../userinfo.service';
import { resolveAuthOptions } from '../options/resolve-auth-options';
import type { AccessTokenVerifier } from '../verifier/access-token.verifier';
import { AccessTokenGuard } from './access-token.guard';

const options = resolveAuthOptions({
  issuerUrl: 'https://tenant.example.com/',
  audience: 'https://api.example.com',
});
const user = { sub: 'alice', claims: { sub: 'alice' }, tokenHash: 'h' } as unknown as AuthUser;

/** A verifier that accepts every token and records the scope requirements it is asked to check. */
function recordingVerifier() {
  return { verify: jest.fn(async () => user), checkScopes: jest.fn(), checkClaimRules: jest.fn() };
}

function httpCall(handler: () => unknown, controller: object): ExecutionContext {
  const request = { headers: { authorization: 'Bearer token-value' }, rawHeaders: [] };
  return {
    getType: () => 'http',
    getHandler: () => handler,
    getClass: () => controller,
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => ({}) }),
  } as unknown as ExecutionContext;
}

const guardWith = (reflector: Reflector, verifier: object) =>
  new AccessTokenGuard(
    reflector,
    options,
    verifier as unknown as AccessTokenVerifier,
    {} as UserinfoService,
  );

class OrdersController {
  list(): string {
    return 'orders';
  }
}
@Scopes('admin')
class AdminOrdersController extends OrdersController {}

describe('AccessTokenGuard', () => {
  it('reads the scopes of one handler per controller: an inherited handler gets its subclass scopes', async () => {
    const verifier = recordingVerifier();
    const guard = guardWith(new Reflector(), verifier);
    const handler = OrdersController.prototype.list;
    await guard.canActivate(httpCall(handler, OrdersController));
    await guard.canActivate(httpCall(handler, AdminOrdersController));
    await guard.canActivate(httpCall(handler, OrdersController));
    const required = verifier.checkScopes.mock.calls.map(([, scopes]) => scopes);
    expect(required).toEqual([[], [{ mode: 'all', scopes: ['admin'] }], []]);
  });

  it('treats a Reflector that answers undefined (a test double) as no scopes', async () => {
    const verifier = recordingVerifier();
    const silent = { getAllAndMerge: () => undefined, getAllAndOverride: () => undefined };
    const guard = guardWith(silent as unknown as Reflector, verifier);
    await expect(guard.canActivate(httpCall(() => 0, OrdersController))).resolves.toBe(true);
    expect(verifier.checkScopes).toHaveBeenCalledWith(user, []);
  });

  it('passes on an error that is not a refusal (a bug) unchanged, never as a 401', async () => {
    const bug = new TypeError('bug in the verifier');
    const verifier = { verify: jest.fn(() => Promise.reject(bug)), checkScopes: jest.fn() };
    const guard = guardWith(new Reflector(), verifier);
    await expect(guard.canActivate(httpCall(() => 0, OrdersController))).rejects.toBe(bug);
  });
});
