import pkg from '../../../package.json';

/** Name and version as the package declares them; the single source for /health and the UI. */
export const APP_INFO = { name: pkg.productName, id: pkg.name, version: pkg.version } as const;
