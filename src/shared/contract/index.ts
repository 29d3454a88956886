export * from './api';
export * from './client';
export * from './dispatch';
export * from './errors';
export * from './events';
export * from './version';
