# build commands of the CLI (automake fragment, included by jenkins-glue/Makefile.inc)
jenkins_glue_jcicd_SOURCES += jenkins-glue/cmd-build.c
