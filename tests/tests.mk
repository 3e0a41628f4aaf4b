# tests/tests.mk - shared pieces of the test suite. Each subsystem's
# fragment (lib/*.mk, daemon/daemon.mk) adds its own test programs.
EXTRA_DIST += tests/unit.h
