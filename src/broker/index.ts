export { startBroker, buildBrokerConfig, type BrokerHandle, type BrokerOptions } from './broker.js';
