"""The GTKWave view `make waves` opens: a signal list, and a save file generated from it for each FST.

The save file is never written by hand: GTKWave drops, without a word, every
trace whose name or bit range is not in the waveform, so a hand-kept view
rots as the RTL changes. view.py names the signals; fst_vars.py reads the
names and widths the waveform really has; gtkw.py checks the one against the
other and writes the save file.
"""
