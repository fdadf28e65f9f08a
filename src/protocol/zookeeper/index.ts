// The ZooKeeper client protocol (jute binary), as pure functions over bytes.
export * from './constants.js';
export * from './jute.js';
export * from './records.js';
export * from './messages.js';
export * from './frame.js';
export * from './paths.js';
export * from './packets.js';
