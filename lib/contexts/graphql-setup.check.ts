import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';

/** The injection token of `GraphQLModule`'s options (`GRAPHQL_MODULE_OPTIONS` of @nestjs/graphql). */
const GRAPHQL_MODULE_OPTIONS = 'GqlModuleOptions';

/**
 * Stops an app whose GraphQL field resolvers would run without the guard. `@nestjs/graphql` runs
 * guards on `@ResolveField()` methods only with `fieldResolverEnhancers: ['guards']`; without it,
 * a field resolver's `@Scopes()` would be ignored and the field served to anyone (fail-open).
 */
@Injectable()
export class GraphqlSetupCheck implements OnModuleInit {
  constructor(private readonly moduleRef: ModuleRef) {}

  onModuleInit(): void {
    let options: { fieldResolverEnhancers?: readonly string[] } | undefined;
    try {
      options = this.moduleRef.get(GRAPHQL_MODULE_OPTIONS, { strict: false });
    } catch {
      return; // No GraphQLModule in this app.
    }
    if (options && !options.fieldResolverEnhancers?.includes('guards')) {
      throw new Error(
        "GraphQLModule option 'fieldResolverEnhancers' must include 'guards': without it, field " +
          'resolvers (@ResolveField) run without the access-token guard. ' +
          "Set fieldResolverEnhancers: ['guards'] in GraphQLModule.forRoot().",
      );
    }
  }
}
