/**
 * Where a container behind the proxy actually listens on its host: read back with
 * `docker port <container> <port>/tcp` (first line, e.g. `127.0.0.1:18080`, `0.0.0.0:18080`, `[::]:18080`),
 * never assumed from the config, since `bind: engine` leaves the address to dockerd's `--ip`.
 * A wildcard bind is reached on the host's loopback.
 */

/**
 * Shell that sets `addr` from container `$c` and port `$p` (or exits 1 with a reason on stderr). Shared by
 * the health probe's address and the nginx switch, so both aim at the same place.
 */
export const RESOLVE_SH =
  'addr=$(docker port "$c" "$p/tcp" 2>&1 | head -n 1); ' +
  'case $addr in *[0-9]:[0-9]*) ;; *) echo "container $c publishes no port $p/tcp: $addr" >&2; exit 1 ;; esac; ' +
  // biome-ignore lint/suspicious/noTemplateCurlyInString: POSIX shell parameter expansion, run by the host's shell
  'case $addr in 0.0.0.0:*) addr="127.0.0.1:${addr#0.0.0.0:}" ;; "[::]:"*) addr="[::1]:${addr#\\[::\\]:}" ;; esac';

/** Prints `host:port` of `container`'s published `containerPort`. */
export const slotAddress = (container: string, containerPort: number): string[] => [
  'sh',
  '-c',
  `c=$1; p=$2; ${RESOLVE_SH}; echo "$addr"`,
  'fjord-slot-address',
  container,
  String(containerPort),
];

/** Splits `slotAddress` output into host (IPv6 in brackets, as a URL takes it) and port; undefined when it is not one. */
export function parseSlotAddress(stdout: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d{1,5})$/.exec(stdout.trim());
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
}
