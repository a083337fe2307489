export { startGateway, DEFAULT_PORT, type GatewayOptions, type RunningGateway } from './gateway.js';
export { resolveDataDir } from './data-dir.js';
