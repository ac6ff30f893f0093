"""`make waves TEST=<module>`: open the module's last FST in GTKWave with the saved view.

Without a display, print the file and the command to run where there is one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAVE_FILE = ROOT / "tb" / "waves" / "nvme_ctrl.gtkw"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--test", required=True)
    args = parser.parse_args()

    wave = ROOT / "build" / "waves" / f"{args.test}.fst"
    if not wave.exists():
        print(f"no waveform for {args.test}: run `make sim TEST={args.test} WAVES=1` first", file=sys.stderr)
        return 1
    command = ["gtkwave", str(wave), str(SAVE_FILE)]
    if not os.environ.get("DISPLAY"):
        print(f"waveform: {wave}\nsaved view: {SAVE_FILE}\nno display here; open it with:\n  {' '.join(command)}")
        return 0
    if shutil.which("gtkwave") is None:
        print("gtkwave is not installed: apt-get install gtkwave", file=sys.stderr)
        return 1
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
