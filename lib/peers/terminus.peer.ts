import { ensurePeer } from './ensure-peer';

ensurePeer('@nestjs/terminus', 'nest-oauth2-bearer/health');
