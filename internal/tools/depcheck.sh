#!/usr/bin/env bash
# Checks that kubedyn's packages import each other only downward, as
# docs/architecture.md lays out. Prints each offending edge and fails.
set -euo pipefail
mod=github.com/kubedyn/kubedyn
# allowed[pkg] = packages of this module that pkg may import (directly or not).
declare -A allowed=(
  [unstructured]=""
  [transport]=""
  [kubeconfig]="transport"
  [discovery]="transport unstructured"
  [watch]="transport unstructured"
  [connect]="transport unstructured"
  [celrules]="unstructured"
  [resource]="celrules connect discovery transport unstructured watch"
  [manifest]="celrules connect discovery resource transport unstructured watch"
  [internal/testserver]="unstructured"
  [internal/cluster]=""
)
fail=0
for pkg in "${!allowed[@]}"; do
  [ -d "$pkg" ] || continue
  deps=$(go list -deps "./$pkg" 2>/dev/null | grep "^$mod/" | sed "s#^$mod/##" | grep -v "^$pkg\$" | grep -v "^$pkg/" || true)
  for d in $deps; do
    ok=0
    for a in ${allowed[$pkg]}; do
      case "$d" in "$a"|"$a"/*) ok=1;; esac
    done
    if [ $ok = 0 ]; then echo "depcheck: $pkg must not import $d"; fail=1; fi
  done
done
# The command-line modules (cobra, gojq, x/term) are for the commands under cmd/
# only: no library package may depend on them, directly or not.
cliOnly='github.com/spf13/cobra github.com/spf13/pflag github.com/itchyny/gojq golang.org/x/term'
while read -r pkg deps; do
  case "$pkg" in "$mod"/cmd/*) continue;; esac
  for d in $deps; do
    for c in $cliOnly; do
      case "$d" in "$c"|"$c"/*) echo "depcheck: ${pkg#"$mod"/} must not import $d (only cmd/ may)"; fail=1;; esac
    done
  done
done < <(go list -f '{{.ImportPath}} {{join .Deps " "}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./... 2>/dev/null)
[ $fail = 0 ] && echo "depcheck: imports point downward"
exit $fail
