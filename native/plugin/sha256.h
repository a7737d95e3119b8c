/* SHA-256 (FIPS 180-4), for the spool file name the daemon expects (common/spool.ts spoolFile). */
#ifndef TS_DHCP_SHA256_H
#define TS_DHCP_SHA256_H

#include <stddef.h>
#include <stdint.h>

void sha256(const void *data, size_t len, uint8_t digest[32]);

#endif
