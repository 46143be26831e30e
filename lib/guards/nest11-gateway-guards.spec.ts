import type { ModulesContainer } from '@nestjs/core';
import { AccessTokenGuard } from './access-token.guard';
import { guardGatewaysOnNest11, websocketsMajor } from './nest11-gateway-guards';

const GATEWAY_METADATA = 'websockets:is_gateway';
const GUARDS_METADATA = '__guards__';

/** A guard instance without its dependencies: only its class matters here. */
const guardInstance = () => Object.create(AccessTokenGuard.prototype) as AccessTokenGuard;

class OtherGuard {
  canActivate() {
    return true;
  }
}

/** Fresh classes each time: the function writes metadata on them. */
function fixture() {
  class PlainGateway {
    readonly name = 'plain';
  }
  Reflect.defineMetadata(GATEWAY_METADATA, true, PlainGateway);
  class GuardedGateway {
    readonly name = 'guarded';
  }
  Reflect.defineMetadata(GATEWAY_METADATA, true, GuardedGateway);
  const previous = guardInstance();
  Reflect.defineMetadata(GUARDS_METADATA, [previous, OtherGuard], GuardedGateway);
  class NotAGateway {
    readonly name = 'service';
  }
  const modules = new Map([
    [
      'GatewayModule',
      {
        providers: new Map<unknown, { metatype: unknown }>([
          [PlainGateway, { metatype: PlainGateway }],
          [NotAGateway, { metatype: NotAGateway }],
          // A value provider (`useValue`) has no class.
          ['CONFIG', { metatype: null }],
        ]),
      },
    ],
    ['OtherModule', { providers: new Map([[GuardedGateway, { metatype: GuardedGateway }]]) }],
  ]) as unknown as ModulesContainer;
  return { modules, PlainGateway, GuardedGateway, NotAGateway, previous };
}

const guardsOf = (type: object) => Reflect.getMetadata(GUARDS_METADATA, type) as unknown;

describe('guardGatewaysOnNest11', () => {
  it('on NestJS 11, puts the guard first on every gateway class, and on nothing else', () => {
    const { modules, PlainGateway, GuardedGateway, NotAGateway, previous } = fixture();
    const guard = guardInstance();
    guardGatewaysOnNest11(modules, guard, 11);
    expect(guardsOf(PlainGateway)).toEqual([guard]);
    expect(guardsOf(PlainGateway)).not.toContain(previous);
    // An earlier app's guard instance is replaced; the gateway's own guards stay, after it.
    const guarded = guardsOf(GuardedGateway) as unknown[];
    expect(guarded).toHaveLength(2);
    expect(guarded[0]).toBe(guard);
    expect(guarded[1]).toBe(OtherGuard);
    expect(guardsOf(NotAGateway)).toBeUndefined();
  });

  it('is idempotent: a second app guards the gateways once, with its own instance', () => {
    const { modules, GuardedGateway } = fixture();
    guardGatewaysOnNest11(modules, guardInstance(), 11);
    const second = guardInstance();
    guardGatewaysOnNest11(modules, second, 11);
    const guarded = guardsOf(GuardedGateway) as unknown[];
    expect(guarded).toHaveLength(2);
    expect(guarded[0]).toBe(second);
    expect(guarded[1]).toBe(OtherGuard);
  });

  it.each([12, 13])('is a no-op with @nestjs/websockets major %s', (major) => {
    const { modules, PlainGateway, GuardedGateway, previous } = fixture();
    guardGatewaysOnNest11(modules, guardInstance(), major);
    expect(guardsOf(PlainGateway)).toBeUndefined();
    expect(guardsOf(GuardedGateway)).toEqual([previous, OtherGuard]);
  });

  it('without a major, follows the installed @nestjs/websockets (applies on 11 only)', () => {
    const { modules, PlainGateway } = fixture();
    const guard = guardInstance();
    guardGatewaysOnNest11(modules, guard);
    expect(guardsOf(PlainGateway)).toEqual(process.env.NEST_MAJOR === '11' ? [guard] : undefined);
  });
});

describe('websocketsMajor', () => {
  // The package.json mock below must not outlive its test.
  afterEach(() => {
    jest.dontMock('@nestjs/websockets/package.json');
    jest.resetModules();
  });

  it('reads the major of @nestjs/websockets from its package.json', () => {
    jest.isolateModules(() => {
      jest.doMock('@nestjs/websockets/package.json', () => ({ version: '11.1.6' }), {
        virtual: true,
      });
      const isolated =
        jest.requireActual<typeof import('./nest11-gateway-guards')>('./nest11-gateway-guards');
      expect(isolated.websocketsMajor()).toBe(11);
    });
  });

  it('is undefined without @nestjs/websockets, and then nothing is guarded', () => {
    jest.isolateModules(() => {
      jest.doMock(
        '@nestjs/websockets/package.json',
        () => {
          throw Object.assign(new Error('Cannot find module'), { code: 'MODULE_NOT_FOUND' });
        },
        { virtual: true },
      );
      const isolated =
        jest.requireActual<typeof import('./nest11-gateway-guards')>('./nest11-gateway-guards');
      expect(isolated.websocketsMajor()).toBeUndefined();
      const { modules, PlainGateway } = fixture();
      isolated.guardGatewaysOnNest11(modules, guardInstance());
      expect(guardsOf(PlainGateway)).toBeUndefined();
    });
  });

  it('is 11 on NestJS 11, and undefined on 12 (whose package.json is not exported)', () => {
    expect(websocketsMajor()).toBe(process.env.NEST_MAJOR === '11' ? 11 : undefined);
  });
});
