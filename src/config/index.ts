export { describeConfig, type KeyDoc } from './describe.js';
export { ConfigInvalidError, ConfigIoError, type ConfigProblem } from './errors.js';
export * from './schema.js';
export { type Assignment, applySettings, getSetting, isSecretKey, parseAssignment, redactSecrets } from './settings.js';
export { defaultConfig, loadConfig, saveConfig, sweepSaveLeftovers, validateConfig } from './store.js';
