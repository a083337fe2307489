/**
 * Values remembered per key for the few keys a laptop sees on every request (model names, budget
 * windows). Keys come from clients, so the map is emptied when it reaches `maxKeys`: junk names
 * cannot grow it, and the names in use are back after one request each.
 */
export class BoundedCache<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly maxKeys: number) {}

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  /** Stores `value` and returns it. */
  set(key: K, value: V): V {
    if (this.map.size >= this.maxKeys) this.map.clear();
    this.map.set(key, value);
    return value;
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}
