# nvme-cosim: `make sim` runs the main job, `make test` the regression.
# The first target run creates .venv and installs everything (tools/setup.sh).

VENV    := .venv
PYTHON  := $(VENV)/bin/python
STAMP   := $(VENV)/.setup-done
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export OBJCACHE := $(if $(shell command -v ccache),ccache,)

TEST     ?= demo
TESTCASE ?=
WAVES    ?= 0
SEED     ?=
SIM      ?= verilator
# pytest workers for the regression: one simulator process each, one shared build
JOBS     ?= $(shell nproc)

TOP      := nvme_ctrl
RTL      := $(sort $(wildcard rtl/*.v))

.PHONY: all sim test lint synth synth-check waves bench unit clean distclean help

all: sim

help:
	@echo "make sim [TEST=<module>] [TESTCASE=<name>] [WAVES=1] [SEED=<n>]  run a module of tests/sim (default: demo)"
	@echo "make test     lint, synthesis and the whole regression (JUnit XML in build/results/)"
	@echo "make waves TEST=<module>   open the last waveform of that module"
	@echo "make coverage   functional coverage merged over the runs so far, with its holes"
	@echo "make lint | synth | bench | clean"

$(STAMP): requirements.txt tools/setup.sh
	bash tools/setup.sh
	touch $@

sim: $(STAMP)
	$(PYTHON) -m tb.run --test $(TEST) --sim $(SIM) \
		$(if $(TESTCASE),--testcase $(TESTCASE)) \
		$(if $(filter 1,$(WAVES)),--waves) \
		$(if $(SEED),--seed $(SEED))

# The regression: lint, a synthesizability check (Yosys elaborates and checks
# the design in seconds; the full mapping with its counts is `make synth`, which
# CI runs after this), then unit and simulation tests on every core.
test: lint synth-check
	$(MAKE) --no-print-directory unit-and-sim

# the pure-Python model and firmware tests alone (seconds, no simulator)
unit: $(STAMP)
	$(PYTHON) -m pytest -q tests/unit

.PHONY: unit-and-sim coverage
unit-and-sim: $(STAMP)
	@mkdir -p build/results
	rm -rf build/coverage
	$(PYTHON) -m pytest -q -n $(JOBS) --dist worksteal --junitxml=build/results/junit.xml
	@$(PYTHON) tools/coverage_report.py

coverage: $(STAMP)
	@$(PYTHON) tools/coverage_report.py

lint: $(STAMP)
	verilator --lint-only -Wall -Irtl --top-module $(TOP) $(RTL)
	@echo "lint: clean ($(words $(RTL)) files)"

synth: $(STAMP)
	@mkdir -p build/synth
	$(PYTHON) tools/synth.py --top $(TOP) --out build/synth $(RTL)

synth-check: $(STAMP)
	@mkdir -p build/synth
	@$(PYTHON) tools/synth.py --check --top $(TOP) --out build/synth $(RTL)

waves: $(STAMP)
	$(PYTHON) tools/waves.py --test $(TEST)

bench: $(STAMP)
	@mkdir -p build/bench
	@for script in $(sort $(wildcard bench/*_bench.py)); do \
		echo "== $$script"; $(PYTHON) $$script || exit 1; done

clean:
	rm -rf build

distclean: clean
	rm -rf $(VENV)
