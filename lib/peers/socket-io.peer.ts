import { ensurePeer } from './ensure-peer';

ensurePeer('@nestjs/platform-socket.io', 'nest-oauth2-bearer/socket.io');
