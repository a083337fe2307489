// Typings for the undici 7 internal that upstream-clients.ts loads instead of the package root
// (see the comment there). undici 7 has no `exports` map, so this path resolves; the type is the
// public one.
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';
  const PoolClass: typeof Pool;
  export default PoolClass;
}
