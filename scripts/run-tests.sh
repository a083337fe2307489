#!/usr/bin/env bash
# `npm test`: typecheck every layer, then all test suites, inside a private D-Bus session with an
# unlocked gnome-keyring so the credential tests use a real Secret Service.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${ASC_IN_KEYRING_SESSION:-}" != "1" ]; then
  if command -v dbus-run-session >/dev/null 2>&1 && command -v gnome-keyring-daemon >/dev/null 2>&1; then
    exec env ASC_IN_KEYRING_SESSION=1 dbus-run-session -- bash "$0" "$@"
  fi
  echo "note: dbus-run-session or gnome-keyring-daemon missing; keychain tests will be skipped" >&2
else
  # A throwaway keyring: its password only unlocks this session's test keyring.
  export XDG_DATA_HOME
  XDG_DATA_HOME="$(mktemp -d)"
  eval "$(printf 'asc-test-keyring' | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)" || true
  export ASC_TEST_KEYRING=1
fi

npx tsc -b
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=out/test-results.json "$@" || status=$?
# One plain closing line, whatever the reporter printed above it.
node -e '
const r = JSON.parse(require("fs").readFileSync("out/test-results.json", "utf8"));
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
exit "$status"
