/* The CNI spec versions ts-dhcp speaks: the daemon's list (daemon/cni/version.ts SUPPORTED_VERSIONS), repeated here
 * because VERSION is answered without the daemon. test/unit/native-plugin.test.ts asserts the two are equal. */
#ifndef TS_DHCP_VERSIONS_H
#define TS_DHCP_VERSIONS_H

#define LATEST_VERSION "1.1.0"
#define SUPPORTED_VERSIONS_JSON "[\"0.1.0\",\"0.2.0\",\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]"

#endif
