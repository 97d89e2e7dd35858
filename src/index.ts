export * from './core/names';
export * from './core/storage';
export * from './core/placement';
export * from './core/security';
export * from './core/resources';
export * from './core/probes';
export * from './core/stateful-workload';
export * from './core/monitoring';
