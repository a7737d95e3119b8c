// The test-network library: real namespaces, real DHCP servers, the real macvlan plugin (see topology.ts).
export * from './topology';
export * from './servers';
export * from './cni';
export * from './capture';
export * from './reference';
export { sleep, waitFor } from './proc';
export * from './tsdhcp';
