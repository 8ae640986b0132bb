#!/usr/bin/env bash
# Checks that includes run one way (docs/design.md, "Layers"): a file under src/X/ or
# include/trunkgate/X/ includes "trunkgate/Y/..." only for Y = X or a layer below X, and every
# folder there is a layer the map names. The order is read from docs/design.md, so the map and
# the check cannot drift apart.
# usage: layers_test.sh SOURCE_DIR
set -euo pipefail

root=${1:?usage: layers_test.sh SOURCE_DIR}
map=$(grep -m1 '^layers: ' "$root/docs/design.md" || true)
[ -n "$map" ] || { echo "docs/design.md has no 'layers: ' line" >&2; exit 1; }

# "layers: util > policy > history > checks, events > gate > ..." gives each folder its rank.
declare -A rank
level=0
IFS='>' read -ra steps <<<"${map#layers: }"
for step in "${steps[@]}"; do
    for folder in ${step//,/ }; do
        rank[$folder]=$level
    done
    level=$((level + 1))
done
[ "${#rank[@]}" -ge 2 ] || { echo "cannot read the layers from: $map" >&2; exit 1; }

problems=0
complain() {
    echo "$*" >&2
    problems=$((problems + 1))
}

for dir in "$root"/src/*/ "$root"/include/trunkgate/*/; do
    folder=$(basename "$dir")
    [ -n "${rank[$folder]+set}" ] || complain "${dir#"$root"/}: a folder docs/design.md's layers do not name"
done
for file in "$root"/src/*.* "$root"/include/trunkgate/*.*; do
    [ -e "$file" ] && complain "${file#"$root"/}: outside every subsystem folder"
done

while IFS=: read -r file _ included; do
    relative=${file#"$root"/}
    case $relative in
    src/*) folder=${relative#src/} ;;
    include/trunkgate/*) folder=${relative#include/trunkgate/} ;;
    esac
    folder=${folder%%/*}
    target=$(sed -n 's|.*#include "trunkgate/\([^/"]*\)/.*|\1|p' <<<"$included")
    if [ -z "$target" ]; then
        complain "$relative: $included does not name a subsystem folder"
    elif [ -z "${rank[$target]+set}" ]; then
        complain "$relative: $included names a folder docs/design.md's layers do not name"
    elif [ "$target" != "$folder" ] && [ "${rank[$target]}" -ge "${rank[$folder]:-0}" ]; then
        complain "$relative: $included runs against the layers ($folder may use only layers below it)"
    fi
done < <(grep -RHn '#include "trunkgate/' "$root/src" "$root/include/trunkgate")

if [ "$problems" -ne 0 ]; then
    echo "layers: $problems problems (docs/design.md, \"Layers\")" >&2
    exit 1
fi
echo "layers: every include runs one way (${map#layers: })"
