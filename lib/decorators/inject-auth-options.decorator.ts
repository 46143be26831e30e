import { Inject } from '@nestjs/common';
import { RESOLVED_AUTH_OPTIONS } from '../auth.constants';

/** Injects the validated `ResolvedAuthOptions` of the AuthModule. */
export const InjectAuthOptions = () => Inject(RESOLVED_AUTH_OPTIONS);
