export * from './api';
export * from './client';
export * from './csp';
export * from './dispatch';
export * from './errors';
export * from './events';
export * from './ipc';
export * from './version';
