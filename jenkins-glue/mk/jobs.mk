# jobs commands of the CLI (automake fragment, included by jenkins-glue/Makefile.inc)
jenkins_glue_jcicd_SOURCES += jenkins-glue/cmd-jobs.c
# the job templates and definitions of jcicd's own pipeline
EXTRA_DIST += jenkins-glue/jobs
