import { SCOPES_KEY } from '../auth.constants';
import { Scopes } from './scopes.decorator';

describe('@Scopes', () => {
  it('adds requirements in order, on classes and methods alike', () => {
    @Scopes('admin')
    class Target {
      @Scopes('a', 'b')
      @Scopes.any('c', 'd')
      handler() {}
    }
    expect(Reflect.getMetadata(SCOPES_KEY, Target)).toEqual([{ mode: 'all', scopes: ['admin'] }]);
    expect(Reflect.getMetadata(SCOPES_KEY, Target.prototype.handler)).toEqual([
      { mode: 'any', scopes: ['c', 'd'] },
      { mode: 'all', scopes: ['a', 'b'] },
    ]);
  });

  it.each([[[]], [['']], [['read messages']], [['a"b']], [[42]]])(
    'refuses scopes %j when the app is defined',
    (scopes) => {
      expect(() => Scopes(...(scopes as string[]))).toThrow(TypeError);
    },
  );
});
