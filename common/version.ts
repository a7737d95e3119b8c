// The product version, shown by `ts-dhcp --version`, `ts-dhcp status` and the daemon's first log line.
export const VERSION = '0.1.0';
