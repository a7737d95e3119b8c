/* Each file of the addon's exported functions defines its own on the module's exports object: 0, or -1. */
#ifndef TSDHCP_EXPORTS_H
#define TSDHCP_EXPORTS_H
#include <node_api.h>
#include <stdint.h>

/* A property descriptor of an exported function; `data` is the job kind of one that starts more than one. */
#define EXPORT(name, fn, data) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, (void *)(intptr_t)(data)}

/* job_js.c: the netns jobs (linkInfo, routeAdd, openPacket, ...), each returning a Promise. */
int jobs_define(napi_env env, napi_value exports);
/* psock.c: packetStart, packetClose: a packet socket handle's delivery and close. */
int psock_define(napi_env env, napi_value exports);
/* dirwatch.c: watchOpen, watchAdd, watchRemove: the inotify watch on netns directories; inotifyMasks, its event
 * bits. */
int dirwatch_define(napi_env env, napi_value exports);
/* sync_calls.c: packetSend, udp6SendTo, udpSend, peerCred, inodeOf: calls that throw at once. */
int sync_calls_define(napi_env env, napi_value exports);

#endif
