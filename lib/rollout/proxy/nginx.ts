/**
 * The nginx adapter: the app's upstream lives in its own file (`upstream fjord_<app>_<env> { server …; }`)
 * that the host's nginx config `include`s; a switch writes it to a temp file, keeps the previous bytes,
 * renames it into place, runs `nginx -t` (restoring the previous bytes on failure) and `nginx -s reload`.
 * A reload is graceful: old workers finish their in-flight requests on the old upstream
 * (nginx.org/en/docs/control.html, "Changing Configuration"). Values reach the scripts as positional
 * parameters only.
 */
import type { TrafficSwitch } from './traffic-switch.js';

// nginx -t validates the whole config; the master must be alive: its pid file names a live process.
const CHECK =
  'out=$(nginx -t 2>&1) || { printf "%s\\n" "$out" >&2; echo "nginx config test failed" >&2; exit 1; }; ' +
  'p=$(cat "$1" 2>/dev/null); [ -n "$p" ] && [ -d "/proc/$p" ] || { echo "nginx is not running (no live process in pid file $1)" >&2; exit 1; }';

const SWITCH =
  'f=$1; name=$2; addr=$3; ' +
  'if [ -n "$4" ]; then addr=$(docker port "$4" "$5/tcp" | head -n 1) && [ -n "$addr" ] || { echo "container $4 publishes no port $5/tcp" >&2; exit 1; }; addr=${addr#0.0.0.0:}; case $addr in *:*) ;; *) addr="127.0.0.1:$addr" ;; esac; fi; ' +
  't="$f.fjord-tmp.$$"; b="$f.fjord-prev"; mkdir -p "$(dirname "$f")" || exit 1; ' +
  'printf "upstream %s {\\n    server %s;\\n}\\n" "$name" "$addr" > "$t" || exit 1; ' +
  'if [ -f "$f" ]; then cp -p "$f" "$b" || exit 1; else rm -f "$b"; fi; mv -f "$t" "$f" || exit 1; ' +
  'if ! out=$(nginx -t 2>&1); then if [ -f "$b" ]; then mv -f "$b" "$f"; else rm -f "$f"; fi; printf "%s\\n" "$out" >&2; echo "nginx rejected the new upstream; the previous one is back" >&2; exit 1; fi; ' +
  'nginx -s reload';

export interface NginxProxy {
  upstreamFile: string;
  upstream: string;
  pidFile: string;
}

export function nginxSwitch(p: NginxProxy): TrafficSwitch {
  return {
    check: () => ['sh', '-c', CHECK, 'fjord-proxy-check', p.pidFile],
    switchTo: (address) => ['sh', '-c', SWITCH, 'fjord-proxy-switch', p.upstreamFile, p.upstream, address],
    switchToContainer: (container, port) => ['sh', '-c', SWITCH, 'fjord-proxy-switch', p.upstreamFile, p.upstream, '', container, String(port)],
  };
}
