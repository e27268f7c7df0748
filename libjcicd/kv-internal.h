/* kv-internal.h - what the KV backends share with the front end. */
#ifndef JCICD_KV_INTERNAL_H
#define JCICD_KV_INTERNAL_H

#include "common.h"
#include "jcicd/sys/kv.h"

extern const jc_kv_provider jc_kv_sqlite_provider;
extern const jc_kv_provider jc_kv_etcd_provider;

/* the VFS the sqlite backend opens databases with (kv-sqlite-vfs.c);
 * NULL: SQLite's default */
const char *jc_kv_sqlite_vfs(void);

/* the URL without user:password@ (caller frees) */
char *jc_kv_url_redact(const char *url);
/* appends a zeroed item and returns it */
jc_kv_pair *jc_kv_list_push(jc_kv_list *list);
jc_kv_event *jc_kv_events_push(jc_kv_events *events);

#endif
