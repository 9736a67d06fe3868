# shellcheck shell=bash
# Sourced: mirror() prints the first Debian archive URI among this machine's
# apt sources (deb822 or one-line), so downloads use the mirror apt already uses.
mirror() {
  local uri
  uri=$(grep -hs -E '^\s*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)
  if [[ -z "$uri" ]]; then
    uri=$(grep -hs -E '^\s*deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
          awk '{for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' | grep -E '/debian/?$' | head -n1 || true)
  fi
  [[ -n "$uri" ]] || { echo "no Debian archive found in /etc/apt/sources*" >&2; return 1; }
  echo "${uri%/}"
}
