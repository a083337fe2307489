// `tsconfig.core.json` maps `electron`, `react` and `react-dom` here so that any named import of
// them from the gateway core fails typecheck: the core must run in plain Node (see DESIGN.md).
export {};
