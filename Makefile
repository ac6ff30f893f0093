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

.PHONY: all sim test nightly lint regs synth synth-check waves bench unit clean distclean help

all: sim

help:
	@echo "make sim [TEST=<module>] [TESTCASE=<name>] [WAVES=1] [SEED=<n>]  run a module of tests/sim (default: demo)"
	@echo "make test     lint, synthesis and the whole regression (JUnit XML in build/results/)"
	@echo "make nightly [SEED=<n>]  100,000 fuzzed SQEs with a new seed (printed; SEED=<n> replays)"
	@echo "make waves TEST=<module>   open the last waveform of that module"
	@echo "make coverage   functional coverage merged over the runs so far, with its holes"
	@echo "make regs     regenerate the register views from contract/ (the other targets do it first)"
	@echo "make lint | synth | bench | clean"

$(STAMP): requirements.txt tools/setup.sh
	bash tools/setup.sh
	touch $@

# The hardware/software contract: contract/*.rdl and contract/params.py give
# rtl/include/, contract/*.py, contract/uvm/, contract/c/ and docs/regs/
# (tools/regmap.py writes only what changed; tests/unit/test_contract.py fails
# on a generated file that differs from its source).
REGS_STAMP := build/.regs-done
$(REGS_STAMP): $(STAMP) $(wildcard contract/*.rdl) contract/params.py tools/regmap.py tools/rdl_overrides.py
	@mkdir -p build
	@$(PYTHON) tools/regmap.py
	@touch $@

regs: $(REGS_STAMP)

sim: $(REGS_STAMP)
	$(PYTHON) -m tb.run --test $(TEST) --sim $(SIM) \
		$(if $(TESTCASE),--testcase $(TESTCASE)) \
		$(if $(filter 1,$(WAVES)),--waves) \
		$(if $(SEED),--seed $(SEED))

# The regression: lint, a synthesizability check (Yosys elaborates and checks
# the design in seconds; the full mapping with its counts is `make synth`, which
# CI runs after this), then unit and simulation tests on every core.
test: lint synth-check
	$(MAKE) --no-print-directory unit-and-sim

# The long fault campaign: NIGHTLY_SQES fuzzed SQEs (tests/sim/sqe_fuzz.py) with
# a new seed each night, printed first so that a failure can be replayed with
# `make nightly SEED=<n>` (about 45 minutes on one core).
NIGHTLY_SQES ?= 100000
nightly: $(REGS_STAMP)
	@seed=$(or $(SEED),$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')); \
	echo "nightly: $(NIGHTLY_SQES) fuzzed SQEs, seed $$seed (replay: make nightly SEED=$$seed)"; \
	NVME_COSIM_FUZZ_SQES=$(NIGHTLY_SQES) $(PYTHON) -m tb.run --test sqe_fuzz --sim $(SIM) --seed $$seed

# the pure-Python model and firmware tests alone (seconds, no simulator)
unit: $(REGS_STAMP)
	$(PYTHON) -m pytest -q tests/unit

.PHONY: unit-and-sim coverage
unit-and-sim: $(REGS_STAMP)
	@mkdir -p build/results
	rm -rf build/coverage
	$(PYTHON) -m pytest -q -n $(JOBS) --dist worksteal --junitxml=build/results/junit.xml
	@$(PYTHON) tools/coverage_report.py

coverage: $(STAMP)
	@$(PYTHON) tools/coverage_report.py

lint: $(REGS_STAMP)
	verilator --lint-only -Wall -Irtl -Irtl/include --top-module $(TOP) $(RTL)
	@echo "lint: clean ($(words $(RTL)) files)"

synth: $(REGS_STAMP)
	@mkdir -p build/synth
	$(PYTHON) tools/synth.py --top $(TOP) --out build/synth $(RTL)

synth-check: $(REGS_STAMP)
	@mkdir -p build/synth
	@$(PYTHON) tools/synth.py --check --top $(TOP) --out build/synth $(RTL)

waves: $(STAMP)
	$(PYTHON) tools/waves.py --test $(TEST)

bench: $(REGS_STAMP)
	@mkdir -p build/bench
	@for script in $(sort $(wildcard bench/*_bench.py)); do \
		echo "== $$script"; $(PYTHON) $$script || exit 1; done

clean:
	rm -rf build

distclean: clean
	rm -rf $(VENV)
