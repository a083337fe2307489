/**
 * Canonical JSON for hashing: object keys sorted recursively (JavaScript's default sort, i.e. by
 * UTF-16 code units), no whitespace, `undefined` object members dropped, non-finite numbers as
 * `null` — the same values `JSON.stringify` would produce, in one deterministic spelling. For any
 * JSON value `v`, `canonicalJson(JSON.parse(canonicalJson(v))) === canonicalJson(v)`, which is
 * what lets the audit chain be re-verified from the stored text.
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null';
}

function write(value: unknown): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      throw new TypeError('canonicalJson: bigint values cannot be represented in JSON');
    case 'object': {
      const withToJson = value as { toJSON?: () => unknown };
      if (typeof withToJson.toJSON === 'function') return write(withToJson.toJSON());
      if (Array.isArray(value)) return `[${value.map((v) => write(v) ?? 'null').join(',')}]`;
      const obj = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(obj).sort()) {
        const v = write(obj[key]);
        if (v !== undefined) parts.push(`${JSON.stringify(key)}:${v}`);
      }
      return `{${parts.join(',')}}`;
    }
  }
}
