/**
 * Version of the API contract (methods, inputs, outputs, events). Bumped on any change a
 * client could notice; reported on /health so a dashboard can tell it talks to an older core.
 */
export const API_VERSION = '1.7.0';
