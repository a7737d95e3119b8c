{
  "targets": [
    {
      "target_name": "ts_dhcp_netns",
      "sources": [
        "src/addon.c",
        "src/arp.c",
        "src/dirwatch.c",
        "src/ip6.c",
        "src/job.c",
        "src/job_js.c",
        "src/link.c",
        "src/napi_util.c",
        "src/netlink.c",
        "src/nsexec.c",
        "src/operr.c",
        "src/packet.c",
        "src/psock.c",
        "src/route.c",
        "src/sockopt.c",
        "src/sync_calls.c",
        "src/udp.c"
      ],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
