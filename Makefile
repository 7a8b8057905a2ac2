# devflow: the front door.  CMake does the building; see README.md.
PREFIX ?= /usr/local
BUILD ?= build
JOBS ?= 2

.PHONY: all deps demo check check-long install bench fuzz clean

all: $(BUILD)/devflow

deps:
	@scripts/install-deps.sh build

$(BUILD)/Makefile: CMakeLists.txt
	@scripts/install-deps.sh build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null

$(BUILD)/devflow: $(BUILD)/Makefile FORCE
	@cmake --build $(BUILD) -j$(JOBS) --target devflow

FORCE:

# The main job on the embedded SQLite default: a demo project walked through
# the whole workflow.
demo: $(BUILD)/devflow
	@DEVFLOW=$(CURDIR)/$(BUILD)/devflow examples/demo.sh

# Every test: unit, CLI, corpus and integration, against real SQLite,
# PostgreSQL and MariaDB servers, in a normal build and under ASan + UBSan.
check:
	@scripts/check.sh

# make check, and the long suites beside it (the whole PostgreSQL diff corpus).
check-long:
	@DF_CHECK_LONG=1 scripts/check.sh

install: $(BUILD)/devflow
	cmake --install $(BUILD) --prefix $(PREFIX)

bench: $(BUILD)/devflow
	@bench/run.sh

fuzz:
	@fuzz/run.sh

clean:
	rm -rf $(BUILD) build-asan
