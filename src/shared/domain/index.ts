export * from './fleet';
export * from './health';
export * from './samples';
export * from './settings';
export * from './predictions';
export * from './alerts';
export * from './dashboard';
