import type { Trace } from '../../shared/trace.js';

export type TraceListener = (trace: Trace) => void;

/** In-process fan-out of finished traces (the live UI subscribes). A failing listener never hurts a request. */
export interface TraceBus {
  publish(trace: Trace): void;
  subscribe(listener: TraceListener): () => void;
}

export function createTraceBus(onListenerError: (e: unknown) => void = () => {}): TraceBus {
  const listeners = new Set<TraceListener>();
  return {
    publish(trace) {
      for (const l of listeners) {
        try {
          l(trace);
        } catch (e) {
          onListenerError(e);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
