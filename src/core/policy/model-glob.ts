/**
 * Model allow-lists: glob patterns where `*` matches any run of characters (including none).
 * Whole-string, case-sensitive: provider model ids are case-sensitive and a pattern must not
 * allow more than it reads (`gpt-4o` does not allow `gpt-4o-mini`; `gpt-4o*` does).
 */

const REGEX_SPECIALS = /[.+?^${}()|[\]\\]/g;

function globToRegexSource(pattern: string): string {
  return pattern
    .split('*')
    .map((part) => part.replace(REGEX_SPECIALS, '\\$&'))
    .join('.*');
}

/** Compiles one glob to an anchored RegExp. */
export function compileModelGlob(pattern: string): RegExp {
  return new RegExp(`^${globToRegexSource(pattern)}$`, 's');
}

/**
 * Compiles a whole allow-list into one predicate (one anchored alternation), so the hot path is a
 * single `RegExp.test`. Absent or empty = allow all.
 */
export function compileModelAllowList(allow: readonly string[] | undefined): (model: string) => boolean {
  if (allow === undefined || allow.length === 0) return () => true;
  const re = new RegExp(`^(?:${allow.map(globToRegexSource).join('|')})$`, 's');
  return (model) => re.test(model);
}

/** One-off match; prefer `compileModelGlob` / `compileModelAllowList` on hot paths. */
export function matchesModelGlob(pattern: string, model: string): boolean {
  return compileModelGlob(pattern).test(model);
}

/** Absent or empty allow-list = allow all. */
export function isModelAllowed(allow: readonly string[] | undefined, model: string): boolean {
  return compileModelAllowList(allow)(model);
}
