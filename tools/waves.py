"""`make waves TEST=<module>`: open the module's last FST in GTKWave on the view of tb/waves/view.py.

The save file is generated here, next to the FST and from it
(build/waves/<module>.gtkw), so that its bit ranges are the waveform's own;
a signal of the view that the FST lacks stops this with its name instead of
vanishing from GTKWave's window. Without a display, print the files and the
command to run where there is one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tb.waves.gtkw import ViewError, generate  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--test", required=True)
    args = parser.parse_args()

    wave = ROOT / "build" / "waves" / f"{args.test}.fst"
    if not wave.exists():
        print(f"no waveform for {args.test}: run `make sim TEST={args.test} WAVES=1` first", file=sys.stderr)
        return 1
    save_file = wave.with_suffix(".gtkw")
    try:
        generate(wave, save_file)
    except ViewError as error:
        print(f"{wave.name}: {error}", file=sys.stderr)
        return 1
    command = ["gtkwave", str(wave), str(save_file)]
    if not os.environ.get("DISPLAY"):
        print(f"waveform: {wave}\nsaved view: {save_file}\nno display here; open it with:\n  {' '.join(command)}")
        return 0
    if shutil.which("gtkwave") is None:
        print("gtkwave is not installed: apt-get install gtkwave", file=sys.stderr)
        return 1
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
