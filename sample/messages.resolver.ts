import { Field, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { CurrentUser, Public, Scopes, type AuthUser } from '../lib';

/** The caller, as `me` shows it. */
@ObjectType()
export class Viewer {
  @Field()
  sub!: string;

  @Field(() => [String])
  scopes!: string[];
}

/**
 * The sample's GraphQL API (`POST /graphql`). The protected fields are nullable: a refused field
 * is `null` with an error at its path, and the rest of the answer stays intact.
 */
@Resolver()
export class MessagesResolver {
  @Public()
  @Query(() => String)
  publicMessage(): string {
    return 'Hello from a public field! You do not need to be authenticated to see this.';
  }

  @Query(() => String, { nullable: true })
  privateMessage(): string {
    return 'Hello from a private field! You need a valid access token to see this.';
  }

  @Scopes('read:messages')
  @Query(() => String, { nullable: true })
  scopedMessage(): string {
    return 'Hello from a private, scoped field! You need an access token with read:messages.';
  }

  @Query(() => Viewer, { nullable: true })
  me(@CurrentUser() user: AuthUser): Viewer | null {
    // A token without a subject has no viewer to show.
    return user.sub === undefined ? null : { sub: user.sub, scopes: user.scopes };
  }
}
