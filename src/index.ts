// The library entry: run a real broker inside your own process (test suites, tools).
export { startBroker, type BrokerHandle, type BrokerOptions } from './broker/index.js';
