import type { ScopeRequirement } from '../token/scopes';
import { stepUpRequirement, type StepUpOptions, type StepUpRequirement } from '../token/step-up';
import type { McpOperation } from './mcp-request';

/** A function of any signature: the MCP SDK's overloaded, generic `register*` methods. */
type AnyMethod = (...args: never[]) => unknown;

/** An MCP server that registers operations as the official SDK's `McpServer` does. */
export interface McpServerLike {
  registerTool: AnyMethod;
  registerResource: AnyMethod;
  registerPrompt: AnyMethod;
}

/** The server's `register*` methods, typed as the server's own: each records its scopes first. */
export type McpScopedRegistrar<S extends McpServerLike> = Pick<
  S,
  'registerTool' | 'registerResource' | 'registerPrompt'
>;

/** A resource template as the SDK's `ResourceTemplate` holds it: its `uriTemplate` matches URIs. */
interface TemplateLike {
  uriTemplate: { match(uri: string): unknown; toString(): string };
}

/** Scope-token characters (RFC 6749 §3.3), as `@Scopes()` takes them. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * The scopes each MCP tool, resource and prompt needs beyond its endpoint's `@Scopes()`, declared
 * where the operation is registered, and checked by the guard at `@McpEndpoint()` routes before
 * the SDK runs anything: a token without them gets HTTP 403 `insufficient_scope` naming every
 * scope the request needs, which an MCP client re-authorizes with.
 *
 * Every operation must be declared before the first request (build your server once at startup,
 * in a constructor or `onModuleInit`): once the application has started, a registration that is
 * not already known, with the same scopes, throws, and its operation is never registered. An
 * operation registered on the server directly (not through `withScopes`) needs the endpoint's
 * scopes only.
 *
 * @example
 * const server = new McpServer({ name: 'messages', version: '1.0.0' });
 * this.mcpScopes.withScopes(server, 'write:messages').registerTool('write_messages', config, cb);
 */
export class McpScopes {
  private readonly tools = new Map<string, readonly string[]>();
  private readonly prompts = new Map<string, readonly string[]>();
  private readonly resources = new Map<string, readonly string[]>();
  private readonly templates = new Map<string, readonly string[]>();
  private readonly templateObjects = new Map<string, TemplateLike>();
  /** The step-up requirement of each operation declared with one, by `${kind}\0${name}`. */
  private readonly stepUps = new Map<string, StepUpRequirement>();
  private started = false;

  /**
   * `server`'s `registerTool`, `registerResource` and `registerPrompt`, each recording that its
   * operation needs `scopes` (besides the endpoint's) before it registers it on `server`.
   */
  withScopes<S extends McpServerLike>(server: S, ...scopes: string[]): McpScopedRegistrar<S> {
    return this.registrar('withScopes', server, scopes);
  }

  /**
   * As {@link withScopes}, and each operation also requires a step-up authentication (RFC 9470,
   * the options of `@StepUp()`): a token from a weaker or older sign-in gets HTTP 401
   * `insufficient_user_authentication` with `acr_values` / `max_age` before the operation runs.
   *
   * @example
   * this.mcpScopes.withStepUp(server, { acr: MFA, maxAge: 300 }, 'transfer:funds')
   *   .registerTool('transfer', config, cb);
   */
  withStepUp<S extends McpServerLike>(
    server: S,
    options: StepUpOptions,
    ...scopes: string[]
  ): McpScopedRegistrar<S> {
    return this.registrar('withStepUp', server, scopes, stepUpRequirement(options));
  }

  /**
   * Declares that the tool or prompt `name`, or the resource at the URI `name`, needs `scopes`
   * (besides the endpoint's), for an MCP framework that registers its operations itself, such as
   * `@rekog/mcp-nest`'s `@Tool()` methods. The same rules as {@link withScopes}: declare each
   * operation once, before the application started (in a constructor).
   *
   * @example
   * @McpController() class MessageTools {
   *   constructor(mcpScopes: McpScopes) {
   *     mcpScopes.declare('tool', 'write_messages', 'write:messages');
   *   }
   * }
   */
  declare(kind: 'tool' | 'prompt' | 'resource', name: string, ...scopes: string[]): void {
    const byKind = { tool: this.tools, prompt: this.prompts, resource: this.resources };
    const declared = Object.hasOwn(byKind, kind) ? byKind[kind] : undefined;
    if (!declared) {
      throw new TypeError(
        `McpScopes.declare: the kind must be 'tool', 'prompt' or 'resource', got ${JSON.stringify(kind)}`,
      );
    }
    this.record(kind, declared, name, validScopes('declare', scopes));
  }

  private registrar<S extends McpServerLike>(
    method: string,
    server: S,
    scopes: string[],
    stepUp?: StepUpRequirement,
  ): McpScopedRegistrar<S> {
    const needs = validScopes(method, scopes);
    const registrar = {
      registerTool: (name: string, ...rest: unknown[]) => {
        this.record('tool', this.tools, name, needs, stepUp);
        return call(server.registerTool, server, [name, ...rest]);
      },
      registerPrompt: (name: string, ...rest: unknown[]) => {
        this.record('prompt', this.prompts, name, needs, stepUp);
        return call(server.registerPrompt, server, [name, ...rest]);
      },
      registerResource: (name: string, uriOrTemplate: unknown, ...rest: unknown[]) => {
        if (typeof uriOrTemplate === 'string') {
          this.record('resource', this.resources, uriOrTemplate, needs, stepUp);
        } else {
          const template = uriOrTemplate as TemplateLike;
          const key = String(template.uriTemplate);
          this.record('resource template', this.templates, key, needs, stepUp);
          this.templateObjects.set(key, template);
        }
        return call(server.registerResource, server, [name, uriOrTemplate, ...rest]);
      },
    };
    return registrar as unknown as McpScopedRegistrar<S>;
  }

  /** Every scope declared for an operation, sorted: part of the endpoint's `scopes_supported`. */
  declaredScopes(): string[] {
    const all = [this.tools, this.prompts, this.resources, this.templates].flatMap((declared) => [
      ...declared.values(),
    ]);
    return [...new Set(all.flat())].sort();
  }

  /** Nest calls it once the application has started: from then on, declarations are closed. */
  onApplicationBootstrap(): void {
    this.started = true;
  }

  /**
   * What a request to an MCP endpoint requires: the endpoint's requirements, then each operation's
   * scopes. A resource URI needs those of its exact declaration and of every template it matches.
   */
  requirements(
    endpoint: readonly ScopeRequirement[],
    operations: readonly McpOperation[],
  ): ScopeRequirement[] {
    const required = [...endpoint];
    for (const operation of operations) {
      for (const scopes of this.scopesOf(operation)) {
        if (scopes.length > 0) required.push({ mode: 'all', scopes });
      }
    }
    return required;
  }

  /**
   * What a request's scope refusal names: the operation when it is one that was declared (its
   * name is the app's, never the caller's text), else the MCP request.
   */
  subjectOf(operations: readonly McpOperation[]): string {
    const [operation] = operations;
    if (operations.length !== 1) return 'This MCP request';
    if (operation.kind === 'tool' && this.tools.has(operation.name)) {
      return `The MCP tool ${operation.name}`;
    }
    if (operation.kind === 'prompt' && this.prompts.has(operation.name)) {
      return `The MCP prompt ${operation.name}`;
    }
    return 'This MCP request';
  }

  /** The step-up requirements of the operations a request runs (exact URI and templates alike). */
  stepUpRequirements(operations: readonly McpOperation[]): StepUpRequirement[] {
    const found: StepUpRequirement[] = [];
    const add = (key: string) => {
      const requirement = this.stepUps.get(key);
      if (requirement) found.push(requirement);
    };
    for (const operation of operations) {
      if (operation.kind === 'tool') add(`tool\0${operation.name}`);
      else if (operation.kind === 'prompt') add(`prompt\0${operation.name}`);
      else {
        add(`resource\0${operation.uri}`);
        for (const [key, template] of this.templateObjects) {
          if (matches(template, operation.uri)) add(`resource template\0${key}`);
        }
      }
    }
    return found;
  }

  private scopesOf(operation: McpOperation): Array<readonly string[]> {
    if (operation.kind === 'tool') return [this.tools.get(operation.name) ?? []];
    if (operation.kind === 'prompt') return [this.prompts.get(operation.name) ?? []];
    const found = [this.resources.get(operation.uri) ?? []];
    for (const [key, template] of this.templateObjects) {
      if (matches(template, operation.uri)) found.push(this.templates.get(key) ?? []);
    }
    return found;
  }

  private record(
    kind: string,
    declared: Map<string, readonly string[]>,
    name: string,
    scopes: readonly string[],
    stepUp?: StepUpRequirement,
  ): void {
    const known = declared.get(name);
    const key = `${kind}\0${name}`;
    const knownStepUp = JSON.stringify(this.stepUps.get(key) ?? null);
    if (knownStepUp !== JSON.stringify(stepUp ?? null) && known !== undefined) {
      throw new Error(
        `McpScopes: the MCP ${kind} "${name}" is declared with another step-up requirement than before: declare it once.`,
      );
    }
    if (known !== undefined && known.join(' ') === scopes.join(' ')) return;
    if (known !== undefined) {
      throw new Error(
        `McpScopes: the MCP ${kind} "${name}" is declared with the scopes "${known.join(' ')}" ` +
          `and again with "${scopes.join(' ')}": declare it once.`,
      );
    }
    if (this.started) {
      throw new Error(
        `McpScopes: the MCP ${kind} "${name}" was declared after the application started, so ` +
          'the guard could not check its scopes on earlier requests: build your McpServer once ' +
          'at startup (in a constructor or onModuleInit) so that every operation is declared.',
      );
    }
    declared.set(name, scopes);
    if (stepUp) this.stepUps.set(key, stepUp);
  }
}

/** A copy of `scopes`, each checked to be a scope token (RFC 6749 §3.3). */
function validScopes(method: string, scopes: string[]): string[] {
  if (!scopes.every((scope) => typeof scope === 'string' && SCOPE_TOKEN.test(scope))) {
    throw new TypeError(
      `McpScopes.${method}: scopes must be non-empty strings without spaces or quotes, got ${JSON.stringify(scopes)}`,
    );
  }
  return [...scopes];
}

function call(method: AnyMethod, server: object, args: unknown[]): unknown {
  return (method as (...args: unknown[]) => unknown).apply(server, args);
}

/** Whether `uri` matches `template`; a template that throws matches (fail closed). */
function matches(template: TemplateLike, uri: string): boolean {
  try {
    return template.uriTemplate.match(uri) != null;
  } catch {
    return true;
  }
}
