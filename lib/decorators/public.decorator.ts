import { SetMetadata, type CustomDecorator } from '@nestjs/common';
import { IS_PUBLIC_KEY } from '../auth.constants';

/**
 * Marks a route, or every route of a controller, as open: the guard lets it through without a token.
 *
 * @example
 * @Public() @Get('health') health() { return 'ok'; }
 */
export const Public = (): CustomDecorator<string> => SetMetadata(IS_PUBLIC_KEY, true);
