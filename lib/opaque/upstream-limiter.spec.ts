import { IssuerUnavailableError } from '../errors/auth-error';
import { UpstreamLimiter } from './upstream-limiter';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function refusal(promise: Promise<unknown>): Promise<IssuerUnavailableError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof IssuerUnavailableError) return error;
    throw error;
  }
  throw new Error('expected an IssuerUnavailableError, but the call ran');
}

const START = 1_700_000_000_000;
let now = START;

beforeEach(() => {
  now = START;
  jest.spyOn(Date, 'now').mockImplementation(() => now);
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('UpstreamLimiter', () => {
  it('returns what the call returns', async () => {
    await expect(new UpstreamLimiter(1, 1).run(async () => 'profile')).resolves.toBe('profile');
  });

  it('passes the rejection of the call on', async () => {
    const failure = new Error('upstream down');
    await expect(new UpstreamLimiter(1, 1).run(() => Promise.reject(failure))).rejects.toBe(
      failure,
    );
  });

  it('refuses calls beyond maxConcurrent with a 503 while the others run', async () => {
    const limiter = new UpstreamLimiter(2, 100);
    const gates = [deferred<string>(), deferred<string>()];
    const running = gates.map((gate) => limiter.run(() => gate.promise));
    const extra = jest.fn(async () => 'extra');

    const error = await refusal(limiter.run(extra));

    expect(extra).not.toHaveBeenCalled();
    expect(error).toMatchObject({
      status: 503,
      reason: 'issuer_unavailable',
      retryAfterSeconds: 1,
    });
    gates[0].resolve('a');
    gates[1].resolve('b');
    await expect(Promise.all(running)).resolves.toStrictEqual(['a', 'b']);
  });

  it.each([
    ['completes', (gate: Deferred<string>) => gate.resolve('done')],
    ['rejects', (gate: Deferred<string>) => gate.reject(new Error('upstream down'))],
  ])('frees the slot once the call %s', async (_, settle) => {
    const limiter = new UpstreamLimiter(1, 100);
    const gate = deferred<string>();
    const first = limiter.run(() => gate.promise);
    await refusal(limiter.run(async () => 'too soon'));

    settle(gate);
    await first.catch(() => undefined);

    await expect(limiter.run(async () => 'next')).resolves.toBe('next');
  });

  it('frees the slot when the call throws synchronously', async () => {
    const limiter = new UpstreamLimiter(1, 100);
    await expect(
      limiter.run(() => {
        throw new Error('bad call');
      }),
    ).rejects.toThrow('bad call');
    await expect(limiter.run(async () => 'next')).resolves.toBe('next');
  });

  it('refuses starts beyond maxPerSecond until the next second', async () => {
    const limiter = new UpstreamLimiter(100, 3);
    const call = jest.fn(async () => 'ok');
    for (let i = 0; i < 3; i++) await limiter.run(call);

    now = START + 999;
    const error = await refusal(limiter.run(call));
    expect(error.retryAfterSeconds).toBe(1);
    expect(call).toHaveBeenCalledTimes(3);

    now = START + 1000;
    await expect(limiter.run(call)).resolves.toBe('ok');
    expect(call).toHaveBeenCalledTimes(4);
  });

  it('gives each new window its full budget', async () => {
    const limiter = new UpstreamLimiter(100, 2);
    const call = async () => 'ok';
    await limiter.run(call);
    await limiter.run(call);
    await refusal(limiter.run(call));

    now = START + 1500;
    await limiter.run(call);
    await limiter.run(call);
    await refusal(limiter.run(call));

    now = START + 2500;
    await expect(limiter.run(call)).resolves.toBe('ok');
  });

  it('does not count refused calls against the per-second budget', async () => {
    const limiter = new UpstreamLimiter(1, 2);
    const gate = deferred<string>();
    const first = limiter.run(() => gate.promise);
    for (let i = 0; i < 5; i++) await refusal(limiter.run(async () => 'refused'));
    gate.resolve('done');
    await first;

    await expect(limiter.run(async () => 'second')).resolves.toBe('second');
  });
});

describe('UpstreamLimiter per-second bound across a window boundary', () => {
  it('counts any sliding second, so a boundary does not let twice the bound through', async () => {
    const limiter = new UpstreamLimiter(100, 2);
    now = START + 900;
    await limiter.run(async () => 'a');
    await limiter.run(async () => 'b');
    now = START + 1100;
    await expect(refusal(limiter.run(async () => 'c'))).resolves.toBeInstanceOf(
      IssuerUnavailableError,
    );
    now = START + 1900;
    await expect(limiter.run(async () => 'd')).resolves.toBe('d');
  });
});
