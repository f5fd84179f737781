# as_root NAME "$0" "$@": the README's commands work as root and as a user with sudo. As root this
# returns at once; as a user it runs the script again through sudo (keeping the display, so the app's
# window opens on the user's screen), or, without sudo, says how to run it as root and fails.
# Root builds into target/as-root and the user's own target/ and artifacts/ stay usable: cargo
# and the tests' files under a root-owned folder would refuse the user's next build.
as_root() {
  local name=$1 script=$2
  shift 2
  if [ "$(id -u)" -eq 0 ]; then
    if [ -n "${SUDO_UID:-}" ] && [ -z "${CARGO_TARGET_DIR:-}" ]; then
      export CARGO_TARGET_DIR="$PWD/target/as-root"
    fi
    return 0
  fi
  if ! command -v sudo >/dev/null 2>&1; then
    echo "$name: this needs root (the lab creates users and starts sshd and PostgreSQL), and sudo is" >&2
    echo "$name: not installed: run it as root, e.g. su -c '$script'" >&2
    return 1
  fi
  mkdir -p target artifacts
  if [ -z "${XAUTHORITY:-}" ] && [ -f "$HOME/.Xauthority" ]; then export XAUTHORITY="$HOME/.Xauthority"; fi
  echo "$name: the lab needs root: running through sudo"
  exec sudo --preserve-env=DISPLAY,XAUTHORITY,WAYLAND_DISPLAY,OSD_DEMO_SCENARIO,TEST_THREADS -- "$script" "$@"
}
