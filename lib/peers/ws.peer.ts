import { ensurePeer } from './ensure-peer';

ensurePeer('@nestjs/platform-ws', 'nest-oauth2-bearer/ws');
