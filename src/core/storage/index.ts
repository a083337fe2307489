export {
  openGatewayStore,
  StoreNotFoundError,
  StoreStateError,
  DATABASE_FILE_NAME,
  DEFAULT_FLUSH_INTERVAL_MS,
  MAX_FLUSH_INTERVAL_MS,
  type GatewayStore,
  type OpenGatewayStoreOptions,
  type SpendRow,
  type SpendGrouping,
  type AuditQueryResult,
} from './gateway-store.js';
export {
  AUDIT_EVENT_TYPES,
  GENESIS_HASH,
  hashAuditEntry,
  hashCheckpoint,
  verifyAuditChain,
  type AuditEvent,
  type AuditEventType,
  type AuditRow,
  type AuditCheckpoint,
  type AuditVerifyResult,
} from './audit-chain.js';
export { canonicalJson } from './canonical-json.js';
export { SCHEMA_VERSION, StoreSchemaError } from './schema.js';
export { isDeniedTrace, mapTraceToAuditEvent } from './trace-rows.js';
