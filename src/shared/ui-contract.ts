import { z } from 'zod';

/**
 * The UI's view of the gateway: one contract for both transports, Electron IPC (main registers
 * handlers, the preload exposes `window.asc`) and, later, the headless gateway's admin routes.
 * The renderer receives an implementation of `AscApi` and never learns which transport it has.
 */
export interface AscApi {
  getGatewayInfo(): Promise<GatewayInfo>;
}

export const gatewayInfoSchema = z.object({
  /** Base URL of the local gateway, e.g. `http://127.0.0.1:4141`. */
  url: z.url({ protocol: /^https?$/ }),
});
export type GatewayInfo = z.infer<typeof gatewayInfoSchema>;

/** One IPC channel per method. Main registers exactly these; the preload invokes only these. */
export const ASC_IPC_CHANNELS = {
  getGatewayInfo: 'asc:gateway-info',
} as const satisfies Record<keyof AscApi, `asc:${string}`>;

/**
 * What each method accepts and returns, checked by whichever side receives it: main validates
 * arguments from the renderer, the renderer validates results.
 */
export const ASC_API_SCHEMAS = {
  getGatewayInfo: { args: z.tuple([]), result: gatewayInfoSchema },
} as const satisfies Record<keyof AscApi, { args: z.ZodTuple; result: z.ZodType }>;
