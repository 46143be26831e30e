import { InvalidRequestError } from '../errors/auth-error';
import { defaultRpcAuthorization } from './rpc-authorization';

const value = 'Bearer abc';

/** Objects shaped as each transport's context, as @nestjs/microservices hands them over. */
const transports: Array<[string, unknown]> = [
  ['TCP or Redis metadata', { getMetadata: () => ({ authorization: value }) }],
  [
    'NATS headers',
    { getHeaders: () => ({ get: (name: string) => (name === 'authorization' ? value : '') }) },
  ],
  [
    'NATS headers, capitalised',
    { getHeaders: () => ({ get: (name: string) => (name === 'Authorization' ? value : '') }) },
  ],
  ['headers as a plain record', { getHeaders: () => ({ authorization: value }) }],
  ['gRPC metadata', { getMap: () => ({}), get: () => [value] }],
  [
    'Kafka headers (bytes)',
    { getMessage: () => ({ headers: { authorization: Buffer.from(value) } }) },
  ],
  [
    'RabbitMQ headers',
    { getMessage: () => ({ properties: { headers: { authorization: value } } }) },
  ],
  [
    'MQTT 5 user properties',
    { getPacket: () => ({ properties: { userProperties: { authorization: [value] } } }) },
  ],
];

describe('defaultRpcAuthorization', () => {
  it.each(transports)('reads %s', (_, context) => {
    expect(defaultRpcAuthorization({}, context)).toBe(value);
  });

  it.each<[string, unknown]>([
    ['TCP without metadata', { getMetadata: () => undefined }],
    ['TCP metadata whose entry is an empty list', { getMetadata: () => ({ authorization: [] }) }],
    ['gRPC metadata without the key', { getMap: () => ({}), get: () => [] }],
    ['NATS without the header', { getHeaders: () => ({ get: () => '' }) }],
    ['a Kafka message without headers', { getMessage: () => ({}) }],
    ['an MQTT packet without properties', { getPacket: () => ({}) }],
    ['no context', undefined],
  ])('finds nothing in %s', (_, context) => {
    expect(defaultRpcAuthorization('text', context)).toBeUndefined();
    expect(defaultRpcAuthorization({ authorization: value }, context)).toBe(value);
  });

  it.each<[string, unknown, unknown]>([
    ['repeated gRPC values', {}, { getMap: () => ({}), get: () => [value, value] }],
    ['the transport and the payload', { authorization: value }, transports[0][1]],
    ['both payload places', { authorization: value, headers: { authorization: value } }, {}],
  ])('refuses a token in %s as two tokens', (_, data, context) => {
    expect(() => defaultRpcAuthorization(data, context)).toThrow(
      expect.objectContaining({ reason: 'multiple_token_methods' }),
    );
  });

  it.each([42, { token: 'x' }, true])('refuses an entry that is not text: %j', (entry) => {
    expect(() => defaultRpcAuthorization({ authorization: entry }, undefined)).toThrow(
      InvalidRequestError,
    );
  });

  it.each([2, 20_000])(
    'refuses a list nested %i deep as not text (400), without recursing into it',
    (depth) => {
      let entry: unknown = value;
      for (let i = 0; i < depth; i++) entry = [entry];
      for (const [data, context] of [
        [{ authorization: entry }, undefined],
        [{}, { getMetadata: () => ({ authorization: entry }) }],
      ])
        expect(() => defaultRpcAuthorization(data, context)).toThrow(
          expect.objectContaining({ status: 400, reason: 'malformed_authorization_header' }),
        );
    },
  );
});
