#!/usr/bin/env bash
# Compile GOV.UK Frontend's Sass into static/build (no brand assets copied: no crown,
# no GDS Transport font faces).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/govuk-frontend ] || npm ci --no-audit --no-fund --loglevel=error
mkdir -p static/build/assets/images
npx --no-install sass --quiet-deps --silence-deprecation=import,global-builtin,mixed-decls \
  --load-path=node_modules/govuk-frontend/dist --style=compressed --no-source-map \
  static/src/app.scss static/build/app.css
# The only image the compiled CSS names is the Royal crest of the footer's Crown copyright
# logo, which this service must not show (and does not ship): drop the reference, so that
# collectstatic's manifest finds every file the CSS names.
sed -i 's#url("[^"]*govuk-crest.svg")#none#g' static/build/app.css
! grep -q 'url(' static/build/app.css || { echo "app.css names a file; check it ships" >&2; grep -o 'url([^)]*)' static/build/app.css >&2; }
cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js static/build/govuk-frontend.min.js
# Favicons and the Open Graph image carry the crown: they stay out. The one image the
# components themselves use is generic.
for f in node_modules/govuk-frontend/dist/govuk/assets/images/*; do
  case "$(basename "$f")" in
    *crown*|*crest*|favicon*|govuk-icon*|govuk-opengraph*) ;;
    *) cp "$f" static/build/assets/images/ ;;
  esac
done
echo "built static/build/app.css"
