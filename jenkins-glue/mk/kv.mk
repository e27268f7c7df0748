# kv commands of the CLI (automake fragment, included by jenkins-glue/Makefile.inc)
jenkins_glue_jcicd_SOURCES += \
	jenkins-glue/cmd-kv.c \
	jenkins-glue/cmd-orchestrate.c \
	jenkins-glue/cmd-agent.c

# jcicd-agent: `jcicd agent` linked with the node part of the library only
# (see agent-main.c); `jcicd agent` runs it when it is installed beside it
bin_PROGRAMS += jenkins-glue/jcicd-agent
jenkins_glue_jcicd_agent_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
jenkins_glue_jcicd_agent_CPPFLAGS = -I$(top_srcdir)/libjcicd/include -I$(top_builddir)
jenkins_glue_jcicd_agent_LDADD = libjcicd/libjcicd-node.la $(NODE_DEPS_LIBS)
jenkins_glue_jcicd_agent_SOURCES = \
	jenkins-glue/cli.h \
	jenkins-glue/cli.c \
	jenkins-glue/cmd-agent.c \
	jenkins-glue/agent-main.c
