#!/usr/bin/env bash
# CI check for the Coq proofs (after they are built): no unfinished proof or
# added axiom in any .v file, and the committed assumptions/*.txt match what
# `Print Assumptions` reports now.
set -euo pipefail
cd "$(dirname "$0")"
if grep -nwE 'Admitted|admit|Axiom|Axioms|Parameter|Parameters|Conjecture' ./*.v; then
  echo "proofs: a forbidden word (unfinished proof or axiom) appears above" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
./assumptions.sh "$tmp"
if ! diff -ru assumptions "$tmp"; then
  echo "proofs: assumptions/*.txt are out of date (run make -C proofs assumptions)" >&2
  exit 1
fi
echo "proofs: all theorems checked; assumptions files up to date"
