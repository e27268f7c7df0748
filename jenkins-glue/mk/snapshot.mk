# snapshot commands of the CLI (automake fragment, included by jenkins-glue/Makefile.inc)
