#!/bin/sh
# browser.sh URL — a $BROWSER for sesame that approves the login in headless
# Chromium: BROWSER=/abs/path/e2e/browser/browser.sh sesame login [--web]
#
# It runs approve.mjs on the URL and appends to $SESAME_BROWSER_LOG (default
# e2e/artifacts/browser.log): "open <scheme://host/path>", approve.mjs's
# messages, and a last line "exit <status>" once the browser is done (sesame
# does not wait for its $BROWSER, so a caller waits for that line).
here=$(cd "$(dirname "$0")" && pwd)
url=${1:?usage: browser.sh URL}
artifacts=${SESAME_SCREENSHOT_DIR:-$here/../artifacts}
log=${SESAME_BROWSER_LOG:-$artifacts/browser.log}
mkdir -p "$(dirname "$log")"
# Only the address: a query string may carry a code.
echo "open ${url%%\?*}" >>"$log"
node "$here/approve.mjs" "$url" >>"$log" 2>&1
status=$?
echo "exit $status" >>"$log"
exit $status
