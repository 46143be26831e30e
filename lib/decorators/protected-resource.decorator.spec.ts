import { PROTECTED_RESOURCE_KEY } from '../auth.constants';
import { ProtectedResource } from './protected-resource.decorator';

describe('@ProtectedResource', () => {
  it('names the resource on a class or a handler', () => {
    @ProtectedResource('mcp')
    class Target {
      @ProtectedResource('tools-v2')
      handler() {}
    }
    expect(Reflect.getMetadata(PROTECTED_RESOURCE_KEY, Target)).toBe('mcp');
    expect(Reflect.getMetadata(PROTECTED_RESOURCE_KEY, Target.prototype.handler)).toBe('tools-v2');
  });

  it.each([[''], ['m cp'], ['1mcp'], ['__proto__'], [42], [undefined]])(
    'refuses the name %p when the app is defined',
    (name) => {
      expect(() => ProtectedResource(name as string)).toThrow(
        /@ProtectedResource: the name must be a key of AuthModule's resources option/,
      );
    },
  );
});
