import { ensurePeer } from './ensure-peer';

ensurePeer('@nestjs/swagger', 'nest-oauth2-bearer/swagger');
