import { ASC_API_SCHEMAS, type AscApi } from '../../shared/ui-contract.js';

/**
 * The contract implementation this page runs against: the Electron bridge when the preload set
 * one, otherwise the headless gateway that served the page. Results are checked against the
 * contract either way, since the receiving side validates.
 */
export function resolveAscApi(): AscApi {
  const transport = window.asc ?? createBrowserApi(window.location);
  return {
    getGatewayInfo: async () => ASC_API_SCHEMAS.getGatewayInfo.result.parse(await transport.getGatewayInfo()),
  };
}

/** Served over HTTP by the gateway itself, the page's own origin is the gateway. */
function createBrowserApi(location: Location): AscApi {
  return {
    getGatewayInfo: async () => ({ url: location.origin }),
  };
}
