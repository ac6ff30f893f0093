# nvme-cosim: `make sim` runs the main job, `make test` the regression.
# The first target run creates .venv and installs everything (tools/setup.sh).

comma   := ,
VENV    := .venv
PYTHON  := $(VENV)/bin/python
STAMP   := $(VENV)/.setup-done
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export OBJCACHE := $(if $(shell command -v ccache),ccache,)

# Variables (`make help` lists them with the test modules)
TEST     ?= demo
TESTCASE ?=
WAVES    ?= 0
SEED     ?=
SIM      ?= verilator
PARAMS   ?=
# pytest workers for the regression: one simulator process each, one shared build
JOBS     ?= $(shell nproc)

# cocotb reads WAVES itself and fails on anything but a number; say it here in one line instead
ifneq ($(filter-out 0 1,$(WAVES))$(if $(WAVES),,empty),)
$(error WAVES takes 0 or 1, not '$(WAVES)')
endif
ifneq ($(filter-out verilator icarus,$(SIM)),)
$(error SIM takes verilator or icarus, not '$(SIM)')
endif
SIM_MODULES := $(sort $(basename $(notdir $(wildcard tests/sim/[!_]*.py))))

TOP      := nvme_ctrl
RTL      := $(sort $(wildcard rtl/*.v))

.PHONY: all sim test nightly lint regs synth synth-check synth-modules waves bench unit clean distclean help

all: sim

help:
	@echo "Targets:"
	@echo "  make sim        run one module of tests/sim (default: demo, the main job); logs in build/runs/<module>/"
	@echo "  make test       lint, synthesizability check, unit tests and the whole simulation regression"
	@echo "                  (JUnit with one testcase per cocotb test: build/results/junit.xml)"
	@echo "  make unit       the pure-Python model and firmware tests alone (seconds, no simulator)"
	@echo "  make nightly    NIGHTLY_SQES fuzzed SQEs with a new seed (printed; SEED=<n> replays)"
	@echo "  make waves      open the last waveform of TEST in GTKWave"
	@echo "  make coverage   functional coverage merged over the runs so far, with its holes"
	@echo "  make regs       regenerate the register views from contract/ (the other targets do it first)"
	@echo "  make lint | synth | synth-modules | bench | clean | distclean"
	@echo "Variables:"
	@echo "  TEST=<module>       module of tests/sim for sim and waves (default: demo)"
	@echo "  TESTCASE=<name>     run only this test of the module"
	@echo "  SEED=<n>            random seed (sim: a new one each run; nightly: replays a night)"
	@echo "  WAVES=0|1           1: also write build/waves/<module>.fst (a build with tracing)"
	@echo "  SIM=verilator|icarus  simulator for sim"
	@echo "  PARAMS=N=V[,N=V]    top-level parameters other than contract/params.py's, e.g. AXIS_PCIE_DATA_WIDTH=128"
	@echo "  JOBS=<n>            pytest workers for test (default: the number of cores, $(JOBS))"
	@echo "  NIGHTLY_SQES=<n>    fuzzed SQEs for nightly (default: $(NIGHTLY_SQES))"
	@echo "  NVME_COSIM_SEED=<n> (environment) the regression's seed instead of the fixed one"
	@echo "Test modules (tests/sim): "
	@echo "$(SIM_MODULES)" | fold -s -w 100 | sed 's/^/  /'

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
	@$(PYTHON) -m tb.run --test $(TEST) --sim $(SIM) \
		$(if $(TESTCASE),--testcase $(TESTCASE)) \
		$(if $(filter 1,$(WAVES)),--waves) \
		$(if $(SEED),--seed $(SEED)) \
		$(foreach p,$(subst $(comma), ,$(PARAMS)),--param $(p))

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

# The unit tests first (seconds; a broken model stops here), then the simulation-level tests
# (tests/ but tests/unit, as tools/durations.py's SIM_ARGS and the CI shards have them) on every
# core. pytest sees one test per module run; tools/results.py expands the JUnit to one testcase
# per cocotb test and, when something failed, ends with each failing test's seed, log and rerun
# command.
.PHONY: unit-and-sim coverage
unit-and-sim: $(REGS_STAMP)
	@mkdir -p build/results
	@rm -rf build/coverage build/runs build/results/*.xml
	@status=0; \
	$(PYTHON) -m pytest -q tests/unit --junitxml=build/results/unit.xml || status=$$?; \
	if [ $$status -eq 0 ]; then $(PYTHON) -m pytest -q -n $(JOBS) --dist worksteal tests --ignore=tests/unit \
		--junitxml=build/results/pytest.xml || status=$$?; fi; \
	$(PYTHON) tools/results.py expand build/results/*.xml --out build/results/junit.xml; \
	$(PYTHON) tools/coverage_report.py; \
	if [ $$status -ne 0 ]; then $(PYTHON) tools/results.py failures build/results/junit.xml; fi; \
	exit $$status

coverage: $(STAMP)
	@$(PYTHON) tools/coverage_report.py

# every stream width the design builds at (256, the default, and 512 carry the DMA engine)
WIDTHS   := 512 256 128 64
# the most physical functions the design builds with (the hard IP's four), at the default width; their
# queues share one table, so each has 15 I/O queues (a power of two with the admin queue, 64 in all)
MAX_FUNCTIONS := 4
FUNCTIONS_PARAMS := FUNCTIONS=$(MAX_FUNCTIONS) IO_QUEUES=15 QUEUE_POOL=32

lint: $(REGS_STAMP)
	@for width in $(WIDTHS); do \
		verilator --lint-only -Wall -Irtl -Irtl/include --top-module $(TOP) -GAXIS_PCIE_DATA_WIDTH=$$width $(RTL) \
			|| exit 1; \
	done
	@verilator --lint-only -Wall -Irtl -Irtl/include --top-module $(TOP) $(addprefix -G,$(FUNCTIONS_PARAMS)) $(RTL)
	@echo "lint: clean ($(words $(RTL)) files, at $(WIDTHS) bits, and with $(MAX_FUNCTIONS) functions)"

# LUT/FF/BRAM counts at each stream width (build/synth/<width>/yosys.log), and with every function
# (build/synth/functions/yosys.log)
synth: $(REGS_STAMP)
	@for width in $(WIDTHS); do \
		mkdir -p build/synth/$$width && \
		$(PYTHON) tools/synth.py --top $(TOP) --param AXIS_PCIE_DATA_WIDTH=$$width --out build/synth/$$width $(RTL) \
			|| exit 1; \
	done
	@mkdir -p build/synth/functions
	@$(PYTHON) tools/synth.py --top $(TOP) $(addprefix --param ,$(FUNCTIONS_PARAMS)) --out build/synth/functions $(RTL)

# where the LUTs go: each module's own counts, mapped without flattening, at the default width
synth-modules: $(REGS_STAMP)
	@mkdir -p build/synth
	@$(PYTHON) tools/synth.py --modules --top $(TOP) --out build/synth $(RTL)

# the default width only, in seconds: `make test` runs it (the other widths and the functions build
# elaborate in their Verilator builds, and map in `make synth`)
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
