export { describeConfig, type KeyDoc } from './describe.js';
export { ConfigInvalidError, ConfigIoError, type ConfigProblem } from './errors.js';
export * from './schema.js';
export { defaultConfig, loadConfig, saveConfig, validateConfig } from './store.js';
