#!/usr/bin/env bash
# Build GOV.UK Frontend assets into monitor/static/.
#
#   bash frontend/build.sh        (from the repository root; works from anywhere)
#
# Idempotent: re-running gives the same output. Installs node_modules with
# `npm ci` only when they are missing or were installed from a different
# package-lock.json.
#
# Output:
#   monitor/static/css/app.css                 frontend/app.scss, compressed, no source map
#   monitor/static/js/govuk-frontend.min.js    GOV.UK Frontend ES module
#   monitor/static/js/init.js                  frontend/init.js
#   monitor/static/js/superset-embedded-sdk.js @superset-ui/embedded-sdk browser bundle (UMD:
#                                              defines window.supersetEmbeddedSdk)
#   monitor/static/js/dashboards.js            frontend/dashboards.js (embeds one dashboard)
#   monitor/static/assets/favicon.svg          our own icon
# The GDS Transport fonts directory is deliberately NOT copied: this is not a
# GOV.UK service.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

GOVUK=node_modules/govuk-frontend/dist/govuk
STATIC=monitor/static
STAMP=node_modules/.monitor-package-lock.sha256

# --- dependencies -----------------------------------------------------------
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -d node_modules || ! -f "$STAMP" || "$(cat "$STAMP")" != "$lock_hash" ]]; then
  # --ignore-scripts: nothing we use needs an install script (sass is pure JS;
  # its optional @parcel/watcher is only used by `sass --watch`).
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
  echo "$lock_hash" > "$STAMP"
fi

# --- CSS --------------------------------------------------------------------
mkdir -p "$STATIC/css" "$STATIC/js" "$STATIC/assets"
tmp_css="$(mktemp "$STATIC/css/.app.css.XXXXXX")"
trap 'rm -f "$tmp_css"' EXIT
node_modules/.bin/sass \
  --load-path=node_modules \
  --style=compressed \
  --no-source-map \
  --quiet-deps \
  frontend/app.scss "$tmp_css"
chmod 644 "$tmp_css"
mv -f "$tmp_css" "$STATIC/css/app.css"

# --- JavaScript -------------------------------------------------------------
cp -f "$GOVUK/govuk-frontend.min.js" "$STATIC/js/govuk-frontend.min.js"
cp -f frontend/init.js "$STATIC/js/init.js"
cp -f node_modules/@superset-ui/embedded-sdk/bundle/index.js "$STATIC/js/superset-embedded-sdk.js"
cp -f frontend/dashboards.js "$STATIC/js/dashboards.js"

# --- icon (no GOV.UK images: their favicons and crest are crown-branded) ----
rm -rf "$STATIC/assets"
mkdir -p "$STATIC/assets"
cp -f frontend/favicon.svg "$STATIC/assets/favicon.svg"

css_kb=$(( ($(wc -c < "$STATIC/css/app.css") + 1023) / 1024 ))
echo "assets: built $STATIC (css ${css_kb} KB, govuk-frontend $(node -p 'require("./node_modules/govuk-frontend/package.json").version'))"
