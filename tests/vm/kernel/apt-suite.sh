# shellcheck shell=bash
# Sourced (after setting $cache and log): apt with a private configuration per
# Debian suite, so the machine's own apt sources stay untouched.
#
#   apt_suite DIR SUITE [--cache] ARGS...  apt-get (or, with --cache, apt-cache)
#       with its lists, archives and sources.list ("deb <mirror> SUITE main")
#       in $cache/DIR; each suite has its own DIR, so two never race.
#   apt_suite_update DIR SUITE             refreshes those lists at most once a day.

# shellcheck source=SCRIPTDIR/mirror.sh
source "$(dirname "${BASH_SOURCE[0]}")/mirror.sh"

apt_suite() {
  local d="${cache:?apt-suite.sh: set cache first}/$1" suite=$2 tool=apt-get
  shift 2
  if [[ $1 == --cache ]]; then tool=apt-cache; shift; fi
  mkdir -p "$d/lists/partial" "$d/archives/partial" "$d/etc"
  if [[ ! -s "$d/etc/sources.list" ]]; then
    local m; m=$(mirror)
    echo "deb $m $suite main" >"$d/etc/sources.list.tmp"
    mv "$d/etc/sources.list.tmp" "$d/etc/sources.list"
  fi
  "$tool" -q -o Dir::Etc::sourcelist="$d/etc/sources.list" -o Dir::Etc::sourceparts=/dev/null \
    -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d" -o Dir::Cache::archives="$d/archives" \
    -o Dir::State::status=/dev/null -o APT::Get::List-Cleanup=0 \
    -o Debug::NoLocking=1 "$@"
}

apt_suite_update() {  # apt_suite_update DIR SUITE
  # The lists are refreshed at most once a day.
  local stamp="$cache/$1/updated"
  if [[ ! -e "$stamp" || -n "$(find "$stamp" -mmin +1440)" ]]; then
    apt_suite "$1" "$2" update >&2 || { log "apt-get update of $2 failed"; exit 1; }
    touch "$stamp"
  fi
}
