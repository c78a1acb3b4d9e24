#!/usr/bin/env bash
# Checks that the element reference (docs/element.md) documents exactly the facesr element's own
# properties: every property gst-inspect-1.0 lists for facesr has a heading ### `name` in the page,
# and every such heading names a property the element has.
#
# usage: tests/check_element_docs.sh GST_PLUGIN_BUILD_DIR DOCS_ELEMENT_MD
#   e.g. tests/check_element_docs.sh build/gst-plugin docs/element.md
# Exit status: 0 when the two agree; 1 when they do not (the missing and the extra names are listed)
# or when gst-inspect-1.0 cannot load the element; 2 on wrong arguments.
#
# Only the plugin in GST_PLUGIN_BUILD_DIR is loaded (no system plugins), with a registry of its own.
# The properties every GstBaseTransform inherits (name, parent, qos) are not facesr's own and are
# not expected in the page. Any level-3 heading that is exactly one name in backticks counts as a
# property heading, wherever it is in the page.
#
# For testing the parser without a build: CHECK_ELEMENT_DOCS_INSPECT_OUTPUT=FILE reads FILE (saved
# gst-inspect-1.0 output) instead of running gst-inspect-1.0; GST_PLUGIN_BUILD_DIR is then not used.
set -euo pipefail
export LC_ALL=C

if [[ $# -ne 2 ]]; then
  sed -n '6,7p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
plugin_dir=$1
docs=$2
me=$(basename "$0")
[[ -f $docs && -r $docs ]] || { echo "$me: '$docs' is not a readable file" >&2; exit 2; }

# Inherited from GstObject / GstBaseTransform: not facesr's own.
inherited=(name parent qos)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- the element's properties, as gst-inspect-1.0 prints them -----------------------------------
if [[ -n ${CHECK_ELEMENT_DOCS_INSPECT_OUTPUT:-} ]]; then
  cp -- "$CHECK_ELEMENT_DOCS_INSPECT_OUTPUT" "$tmp/inspect.txt"
else
  [[ -d $plugin_dir ]] || { echo "$me: '$plugin_dir' is not a directory (the gst-plugin build dir)" >&2; exit 2; }
  command -v gst-inspect-1.0 >/dev/null ||
    { echo "$me: gst-inspect-1.0 not found: install gstreamer1.0-tools (scripts/install-deps.sh does)" >&2; exit 1; }
  if ! GST_PLUGIN_SYSTEM_PATH_1_0='' GST_PLUGIN_PATH="$plugin_dir" GST_REGISTRY="$tmp/registry.bin" \
      GST_INSPECT_NO_COLORS=1 gst-inspect-1.0 facesr > "$tmp/inspect.txt" 2> "$tmp/inspect.err"; then
    echo "$me: gst-inspect-1.0 could not load the facesr element from '$plugin_dir':" >&2
    cat "$tmp/inspect.err" "$tmp/inspect.txt" >&2
    exit 1
  fi
fi

# The "Element Properties:" section runs to the next line that starts in column 1 (the next
# section's title) or to the end. A property line is two spaces, the name, padding, ": " and the
# blurb; the lines below it (flags, type, enum values) are indented further.
awk '
  /^Element Properties:/ { in_props = 1; next }
  in_props && /^[^ \t]/ { in_props = 0 }
  in_props && /^  [A-Za-z0-9_-]+ *: / { sub(/^  /, ""); sub(/ *: .*$/, ""); print }
' "$tmp/inspect.txt" | sort -u > "$tmp/all-properties"

if ! grep -q '^Element Properties:' "$tmp/inspect.txt" || [[ ! -s $tmp/all-properties ]]; then
  echo "$me: no \"Element Properties:\" section with properties in the gst-inspect-1.0 output:" >&2
  cat "$tmp/inspect.txt" >&2
  exit 1
fi
printf '%s\n' "${inherited[@]}" | sort -u > "$tmp/inherited"
comm -23 "$tmp/all-properties" "$tmp/inherited" > "$tmp/element"
if [[ ! -s $tmp/element ]]; then
  echo "$me: gst-inspect-1.0 listed only inherited properties ($(tr '\n' ' ' < "$tmp/all-properties"))" >&2
  exit 1
fi

# ---- the documented properties: headings ### `name` ---------------------------------------------
# shellcheck disable=SC2016  # the backticks are Markdown, not command substitution
heading_re='^### `([^`]+)`[[:space:]]*$'
{ grep -E "$heading_re" "$docs" || true; } | sed -E "s/$heading_re/\1/" > "$tmp/headings"
sort "$tmp/headings" | uniq -d > "$tmp/duplicates"
sort -u "$tmp/headings" > "$tmp/documented"

# ---- compare ------------------------------------------------------------------------------------
comm -23 "$tmp/element" "$tmp/documented" > "$tmp/undocumented"
comm -13 "$tmp/element" "$tmp/documented" > "$tmp/unknown"

status=0
if [[ -s $tmp/undocumented ]]; then
  echo "$me: properties of facesr without a ### \`name\` heading in $docs:" >&2
  sed 's/^/  /' "$tmp/undocumented" >&2
  status=1
fi
if [[ -s $tmp/unknown ]]; then
  echo "$me: $docs documents properties facesr does not have (or inherited ones: ${inherited[*]}):" >&2
  sed 's/^/  /' "$tmp/unknown" >&2
  status=1
fi
if [[ -s $tmp/duplicates ]]; then
  echo "$me: properties with more than one heading in $docs:" >&2
  sed 's/^/  /' "$tmp/duplicates" >&2
  status=1
fi
if [[ $status == 0 ]]; then
  echo "$me: $docs documents all $(wc -l < "$tmp/element") properties of facesr, and no others"
fi
exit $status
