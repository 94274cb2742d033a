#!/usr/bin/env bash
# The bash and zsh completions meson generates from the command definitions
# (tools/completion.h): sourced in a clean bash (and zsh), completing `vouch `, `vouch cache `,
# a flag, a flag's value and vouch-device's commands offers exactly what --help lists.
. "$(dirname "$0")/lib.sh"

: "${VOUCH_BASH_COMPLETION:?the generated bash completion for vouch}"
: "${VOUCH_DEVICE_BASH_COMPLETION:?the generated bash completion for vouch-device}"
: "${VOUCH_ZSH_COMPLETION:?the generated zsh completion for vouch}"

# help_subcommands PROG ARGS...: the subcommands (and aliases) PROG ARGS --help lists, sorted.
help_subcommands() {
  "$@" --help | awk '/^Subcommands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print }' |
    sed -E 's/^  ([a-z, -]+[a-z])  .*/\1/; s/^  //' | tr ',' '\n' | tr -d ' ' | sort
}
# help_flags PROG ARGS...: the long flags PROG ARGS --help lists, sorted.
help_flags() {
  "$@" --help | awk '/^Options:/ { on = 1; next } on && /^$/ { exit } on { print }' |
    grep -oE '^  (-[a-z],)?--[a-z0-9-]+' | sed -E 's/^  (-[a-z],)?//' | sort
}
# complete_bash SCRIPT FUNCTION WORDS...: what bash offers for the last word (may be empty).
complete_bash() {
  local script=$1 fn=$2; shift 2
  bash --norc --noprofile -c '
    source "$1"; fn=$2; shift 2
    COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    "$fn" 2>/dev/null
    printf "%s\n" "${COMPREPLY[@]}"' bash "$script" "$fn" "$@" | sed '/^$/d' | sort
}

expect_same "$(complete_bash "$VOUCH_BASH_COMPLETION" _vouch vouch '')" "$(help_subcommands "$VOUCH")"
expect_in <(complete_bash "$VOUCH_BASH_COMPLETION" _vouch vouch '') cache
expect_same "$(complete_bash "$VOUCH_BASH_COMPLETION" _vouch vouch cache '')" "$(help_subcommands "$VOUCH" cache)"
# import's alias too, and a prefix narrows.
expect_in <(complete_bash "$VOUCH_BASH_COMPLETION" _vouch vouch cache '') add
expect_same "$(complete_bash "$VOUCH_BASH_COMPLETION" _vouch vouch cache pu | tr '\n' ' ')" "pull push "
expect_same "$(complete_bash "$VOUCH_BASH_COMPLETION" _vouch vouch log '')" "$(help_subcommands "$VOUCH" log)"
# Flags after "-": exactly the command's, whatever came before them.
expect_same "$(complete_bash "$VOUCH_BASH_COMPLETION" _vouch vouch cache pull --cache c.git --)" "$(help_flags "$VOUCH" cache pull)"
expect_same "$(complete_bash "$VOUCH_BASH_COMPLETION" _vouch vouch issue --)" "$(help_flags "$VOUCH" issue)"
expect_same "$(complete_bash "$VOUCH_BASH_COMPLETION" _vouch vouch --)" "$(help_flags "$VOUCH")"
# A flag's value and an operand are file names; a flag's value is not taken for a command.
touch cache-notes.txt
expect_same "$(complete_bash "$VOUCH_BASH_COMPLETION" _vouch vouch issue --out-dir cache-)" "cache-notes.txt"
expect_same "$(complete_bash "$VOUCH_BASH_COMPLETION" _vouch vouch bundle list cache-)" "cache-notes.txt"
expect_same "$(complete_bash "$VOUCH_BASH_COMPLETION" _vouch vouch bundle create --out cache --)" "$(help_flags "$VOUCH" bundle create)"
# A flag whose value may be left out (bundle create --cache) does not swallow the next flag.
expect_same "$(complete_bash "$VOUCH_BASH_COMPLETION" _vouch vouch bundle create --cache --json --)" "$(help_flags "$VOUCH" bundle create)"
expect_same "$(complete_bash "$VOUCH_BASH_COMPLETION" _vouch vouch bundle create --cache --)" "$(help_flags "$VOUCH" bundle create)"

expect_same "$(complete_bash "$VOUCH_DEVICE_BASH_COMPLETION" _vouch_device vouch-device '')" "$(help_subcommands "$VOUCH_DEVICE")"
expect_same "$(complete_bash "$VOUCH_DEVICE_BASH_COMPLETION" _vouch_device vouch-device fetch --state s --)" "$(help_flags "$VOUCH_DEVICE" fetch)"
expect_same "$(complete_bash "$VOUCH_DEVICE_BASH_COMPLETION" _vouch_device vouch-device status --)" "$(help_flags "$VOUCH_DEVICE" show)"

# What the programs print is what meson installed, and an unknown shell is a usage error.
"$VOUCH" --completion bash | cmp -s - "$VOUCH_BASH_COMPLETION" || fail "vouch --completion bash differs from $VOUCH_BASH_COMPLETION"
ok
expect_exit 2 "$VOUCH" --completion fish
expect_in err.txt "--completion takes bash or zsh"

# zsh: the script parses, and with _describe (matching the word's prefix, as zsh's does) and
# _files standing in for zsh's completion system it offers the same commands and flags.
command -v zsh >/dev/null || fail "zsh is not installed (./dev installs it)"
zsh -n "$VOUCH_ZSH_COMPLETION" || fail "zsh cannot parse $VOUCH_ZSH_COMPLETION"
ok
complete_zsh() { # WORDS...
  zsh -f -c '
    _describe() { local -a m; m=(${(P)${@[-1]}}); m=(${(M)m:#${PREFIX}*}); print -rl -- ${m%%:*} }
    _files() { print FILES }
    script=$1; shift
    words=("$@"); CURRENT=$#words; PREFIX=${words[-1]}
    source $script' zsh "$VOUCH_ZSH_COMPLETION" "$@" | sort
}
expect_same "$(complete_zsh vouch '')" "$(help_subcommands "$VOUCH")"
expect_same "$(complete_zsh vouch cache '')" "$(help_subcommands "$VOUCH" cache)"
expect_same "$(complete_zsh vouch cache pull --)" "$(help_flags "$VOUCH" cache pull)"
expect_same "$(complete_zsh vouch issue --out-dir '')" "FILES"

echo "completion: $checks checks passed"
