# bash completion for cmbinfo and cmbcp (installed under both names in
# bash-completion's completions directory, which loads it on first use).
#
#   cmbcp --via <TAB>      -> PCI addresses of NVMe controllers that have a p2pmem pool
#   cmbcp /dev/ng<TAB>     -> NVMe generic char devices

_cmb_namespaces() {
  local d
  for d in /dev/ng[0-9]*n[0-9]*; do [[ -c $d ]] && printf '%s\n' "$d"; done
}

_cmb_providers() {
  local c
  for c in /sys/class/nvme/nvme*; do
    [[ -d $c/device/p2pmem ]] && basename "$(readlink -f "$c/device")"
  done
}

_cmbinfo() {
  local cur prev
  cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  case $prev in
    -o|--output) mapfile -t COMPREPLY < <(compgen -W "text json dot" -- "$cur"); return ;;
    -r|--root) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
    --udev) mapfile -t COMPREPLY < <(compgen -W "$(_cmb_providers)" -- "$cur"); return ;;
    --devices) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
    --path) mapfile -t COMPREPLY < <(compgen -W "passthrough block" -- "$cur"); return ;;
    --bytes) return ;;
  esac
  mapfile -t COMPREPLY < <(compgen -W "--output --verbose --topology --root --devices --udev --probe --bytes --path --report --help --version" -- "$cur")
}

_cmbcp() {
  local cur prev
  cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  case $prev in
    -o|--output) mapfile -t COMPREPLY < <(compgen -W "text json" -- "$cur"); return ;;
    -m|--method) mapfile -t COMPREPLY < <(compgen -W "auto p2p bounce nvme-copy" -- "$cur"); return ;;
    --path) mapfile -t COMPREPLY < <(compgen -W "passthrough block" -- "$cur"); return ;;
    --via|-c) mapfile -t COMPREPLY < <(compgen -W "auto $(_cmb_providers)" -- "$cur"); return ;;
    -s|--src-lba|-d|--dst-lba|-n|--count|-b|--bytes|--chunk|--qd|--rate|-r|-w) return ;;
    --extents) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
  esac
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "--src-lba --dst-lba --count --bytes --via --stripe --sqpoll --poll --method --path --allow-bounce
      --chunk --qd --rate --extents --stop-on-error --force --resume --dry-run --verify --verify-only --output --progress --no-progress
      --verbose --help --version" -- "$cur")
    return
  fi
  mapfile -t COMPREPLY < <(compgen -W "$(_cmb_namespaces)" -- "$cur")
}

complete -F _cmbinfo cmbinfo

_cmbtarget() {
  local cur prev
  cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  case $prev in
    -t|--transport) mapfile -t COMPREPLY < <(compgen -W "tcp rdma loop" -- "$cur"); return ;;
    --p2pmem) mapfile -t COMPREPLY < <(compgen -W "none auto $(_cmb_providers)" -- "$cur"); return ;;
    -o|--output) mapfile -t COMPREPLY < <(compgen -W "text json" -- "$cur"); return ;;
    -r|--root) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
    save|restore) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
    -a|--addr|-s|--trsvcid|-n|--nqn|--host) return ;;
  esac
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "--transport --addr --trsvcid --nqn --host --allow-any-host --p2pmem --dry-run --force --output --root --help --version" -- "$cur")
  elif ((COMP_CWORD == 1)); then
    mapfile -t COMPREPLY < <(compgen -W "export remove save restore show" -- "$cur")
  else
    mapfile -t COMPREPLY < <(compgen -W "$(_cmb_namespaces)" -- "$cur")
  fi
}
complete -F _cmbcp cmbcp
complete -F _cmbtarget cmbtarget
