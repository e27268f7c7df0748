# pipeline tests (automake fragment, included by test/Makefile.inc)
