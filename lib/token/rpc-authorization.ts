import { InvalidRequestError } from '../errors/auth-error';

/**
 * Where an RPC message carries its credentials: returns its `Authorization` value
 * (`Bearer <token>`), or `undefined` when it carries none. Given the message's payload (`data`) and
 * the transport's context (`TcpContext`, `NatsContext`, gRPC `Metadata`, ...).
 */
export type RpcAuthorization = (data: unknown, context: unknown) => string | undefined;

type Getter = (name: string) => unknown;

/**
 * The default {@link RpcAuthorization}: the `authorization` entry of the transport's metadata or
 * headers, where the transport has them (TCP and Redis `getMetadata()` on NestJS 12, NATS headers,
 * gRPC metadata, Kafka headers, RabbitMQ message headers, MQTT 5 user properties), otherwise
 * `data.authorization` or `data.headers.authorization` of the payload. A message that carries it
 * twice (in both places, or repeated) is refused with 400 `invalid_request`, as HTTP is.
 *
 * @example
 * client.setOnDispatchHook((packet) => { packet.metadata = { authorization: `Bearer ${token}` }; });
 * client.send('orders.list', { authorization: `Bearer ${token}` }); // or in the payload
 */
export function defaultRpcAuthorization(data: unknown, context: unknown): string | undefined {
  const fromTransport = single(transportEntry(context));
  const fromPayload = single(payloadEntry(data));
  if (fromTransport !== undefined && fromPayload !== undefined) multiple();
  return fromTransport ?? fromPayload;
}

/** The raw `authorization` entry the transport carries beside the payload, if any. */
function transportEntry(context: unknown): unknown {
  if (!isObject(context)) return undefined;
  // TCP and Redis (NestJS 12): `getMetadata()`, a plain record.
  const metadata = call(context, 'getMetadata');
  if (isObject(metadata)) return metadata.authorization;
  // NATS: a MsgHdrs, whose `get` answers '' for a missing header.
  const headers = call(context, 'getHeaders');
  if (isObject(headers)) return fromHeaderBag(headers);
  // gRPC: the context is the call's Metadata; `get` returns every value of the key.
  if (typeof context.getMap === 'function' && typeof context.get === 'function')
    return emptyAsAbsent((context.get as Getter)('authorization'));
  // Kafka (`message.headers`) and RabbitMQ (`message.properties.headers`).
  const message = call(context, 'getMessage');
  if (isObject(message)) {
    if (isObject(message.headers)) return message.headers.authorization;
    if (isObject(message.properties) && isObject(message.properties.headers))
      return message.properties.headers.authorization;
  }
  // MQTT 5: user properties of the packet.
  const packet = call(context, 'getPacket');
  if (isObject(packet) && isObject(packet.properties) && isObject(packet.properties.userProperties))
    return packet.properties.userProperties.authorization;
  return undefined;
}

/** `data.authorization`, or `data.headers.authorization`; both at once are two tokens. */
function payloadEntry(data: unknown): unknown {
  if (!isObject(data)) return undefined;
  const direct = data.authorization;
  const nested = isObject(data.headers) ? data.headers.authorization : undefined;
  if (direct !== undefined && nested !== undefined) multiple();
  return direct ?? nested;
}

function fromHeaderBag(headers: Record<string, unknown>): unknown {
  if (typeof headers.get !== 'function') return headers.authorization;
  const get = headers.get.bind(headers) as Getter;
  return emptyAsAbsent(get('authorization')) ?? emptyAsAbsent(get('Authorization'));
}

/**
 * One value as a string: text, bytes (Kafka, gRPC binary) or a list of exactly one of those. A list
 * is unwrapped once, never recursively: a list of lists is not text (and a caller's nesting cannot
 * reach the stack's limit).
 */
function single(entry: unknown): string | undefined {
  if (entry === undefined || entry === null) return undefined;
  if (Array.isArray(entry)) {
    if (entry.length === 0) return undefined;
    if (entry.length > 1) multiple();
    return text(entry[0]);
  }
  return text(entry);
}

function text(entry: unknown): string {
  if (typeof entry === 'string') return entry;
  if (entry instanceof Uint8Array) return Buffer.from(entry).toString('utf8');
  throw new InvalidRequestError(
    'malformed_authorization_header',
    "The message's authorization entry is not text: send 'Bearer <token>'.",
  );
}

function emptyAsAbsent(value: unknown): unknown {
  return value === '' || (Array.isArray(value) && value.length === 0) ? undefined : value;
}

function call(target: Record<string, unknown>, method: string): unknown {
  const fn = target[method];
  return typeof fn === 'function' ? (fn as () => unknown).call(target) : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function multiple(): never {
  throw new InvalidRequestError(
    'multiple_token_methods',
    'The message carries more than one access token; send exactly one.',
  );
}
