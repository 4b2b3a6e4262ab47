#!/usr/bin/env bash
# Writes `Print Assumptions` for each main theorem into DIR/<name>.txt.
# Usage: ./assumptions.sh DIR   (run after the proofs are built)
set -euo pipefail
cd "$(dirname "$0")"
out="$1"
mkdir -p "$out"
# name  module  theorem...
while read -r name mod thms; do
  [ -z "$name" ] && continue
  case "$name" in \#*) continue ;; esac
  v=$(mktemp --suffix=.v /tmp/esai_assumptions_XXXXXX)
  {
    echo "From ESAI Require Import $mod."
    for t in $thms; do
      echo "Goal True. idtac \"== Print Assumptions $mod.$t\". Abort."
      echo "Print Assumptions $t."
    done
  } > "$v"
  coqc -w -all -Q . ESAI "$v" 2>&1 | grep -v '^$' > "$out/$name.txt"
  rm -f "$v" "${v%.v}.vo" "${v%.v}.vok" "${v%.v}.vos" "${v%.v}.glob" \
        "$(dirname "$v")/.$(basename "${v%.v}").aux"
done < assumptions.list
