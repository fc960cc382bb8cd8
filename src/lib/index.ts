export * from './clock.js';
export * from './errors.js';
export * from './events.js';
export * from './logger.js';
export * from './units.js';
