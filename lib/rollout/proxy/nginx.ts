/**
 * The nginx adapter. The app's upstream lives in its own file (`upstream fjord_<app>_<env> { server …; }`)
 * that the host's nginx config `include`s. A switch writes it to a temp file beside it, keeps the previous
 * bytes, renames it into place (atomic on one file system), runs `nginx -t` (the previous bytes put back
 * on failure) and `nginx -s reload`. A reload is graceful: the master starts workers on the new config and
 * asks the old ones to finish their in-flight requests and exit (nginx.org/en/docs/control.html,
 * "Changing Configuration"). The signal is asynchronous and a master that cannot apply the config keeps the
 * old one, so the switch waits until every old worker was told to shut down. Values reach the scripts as
 * positional parameters only.
 */
import { RESOLVE_SH } from './slot-address.js';
import type { TrafficSwitch } from './traffic-switch.js';

// The master named by the pid file is alive and is nginx (a stale pid file may name a recycled pid).
const MASTER_SH =
  'm=$(cat "$pidf" 2>/dev/null); ' +
  '[ -n "$m" ] && [ -r "/proc/$m/cmdline" ] && tr "\\000" " " < "/proc/$m/cmdline" | grep -q nginx || { echo "nginx is not running: no live nginx process in its pid file $pidf" >&2; exit 1; }';

const CHECK =
  'pidf=$1; command -v nginx >/dev/null || { echo "nginx is not installed: no nginx on the deploy user\'s PATH" >&2; exit 1; }; ' +
  `${MASTER_SH}; ` +
  'out=$(nginx -t 2>&1) || { printf "%s\\n" "$out" >&2; echo "nginx -t failed: the proxy\'s own config does not validate" >&2; exit 1; }';

// Old workers: the master's children titled "worker process" (not "worker process is shutting down").
const WORKERS_SH = 'pgrep -P "$m" -f "worker process\\$" 2>/dev/null | tr "\\n" " "';

/** Waits (up to 10 s) until none of the `$old` workers is still an active worker; `onTimeout` runs, then exit 1. */
const waitApplied = (onTimeout: string): string =>
  'if command -v pgrep >/dev/null; then i=0; while :; do ' +
  `live=" $(${WORKERS_SH}) "; still=0; for w in $old; do case $live in *" $w "*) still=1 ;; esac; done; ` +
  // biome-ignore lint/suspicious/noTemplateCurlyInString: POSIX shell parameter expansion, run by the host's shell
  '[ $still = 0 ] && [ -n "${live# }" ] && break; ' +
  `i=$((i+1)); if [ $i -ge 200 ]; then ${onTimeout}; exit 1; fi; sleep 0.05; ` +
  'done; fi';

const SWITCH =
  'f=$1; name=$2; pidf=$3; addr=$4; c=$5; p=$6; ' +
  `if [ -z "$addr" ]; then ${RESOLVE_SH}; fi; ` +
  `${MASTER_SH}; ` +
  't="$f.fjord-tmp.$$"; b="$f.fjord-prev"; mkdir -p "$(dirname "$f")" || exit 1; ' +
  'printf "upstream %s {\\n    server %s;\\n}\\n" "$name" "$addr" > "$t" || exit 1; ' +
  'if [ -f "$f" ] && cmp -s "$t" "$f"; then rm -f "$t"; echo "upstream $name already at $addr"; exit 0; fi; ' +
  'if [ -f "$f" ]; then cp -p "$f" "$b" || exit 1; had=1; else had=0; fi; ' +
  'restore() { if [ $had = 1 ]; then mv -f "$b" "$f"; else rm -f "$f"; fi; }; ' +
  'mv -f "$t" "$f" || exit 1; ' +
  'if ! out=$(nginx -t 2>&1); then restore; printf "%s\\n" "$out" >&2; echo "nginx -t rejected upstream $name -> $addr; the previous upstream file is back" >&2; exit 1; fi; ' +
  `old=$(${WORKERS_SH}); ` +
  'if ! out=$(nginx -s reload 2>&1); then restore; printf "%s\\n" "$out" >&2; echo "nginx -s reload failed; the previous upstream file is back" >&2; exit 1; fi; ' +
  `${waitApplied('restore; echo "nginx did not apply the new configuration within 10 s (see its error log); the previous upstream file is back" >&2')}; ` +
  'echo "upstream $name -> $addr"';

// A managed file's `reload: { nginx: … }`: the same graceful reload and wait as the switch, without the upstream file.
const RELOAD =
  'pidf=$1; ' +
  `${MASTER_SH}; ` +
  `old=$(${WORKERS_SH}); ` +
  'out=$(nginx -s reload 2>&1) || { printf "%s\\n" "$out" >&2; echo "nginx -s reload failed" >&2; exit 1; }; ' +
  waitApplied('echo "nginx did not apply the new configuration within 10 s (see its error log)" >&2');

/** `nginx -s reload` that returns once every old worker was told to shut down (the master applied the new config). */
export const nginxReload = (pidFile: string): string[] => ['sh', '-c', RELOAD, 'fjord-nginx-reload', pidFile];

export interface NginxProxy {
  /** The upstream file (relative: to the deploy user's home). */
  upstreamFile: string;
  /** The upstream's name in nginx's config (`upstreamName`). */
  upstream: string;
  /** nginx's pid file. */
  pidFile: string;
}

/** The TrafficSwitch of one app's environment on the host's nginx. */
export function nginxSwitch(p: NginxProxy): TrafficSwitch {
  return {
    kind: 'nginx',
    check: () => ['sh', '-c', CHECK, 'fjord-proxy-check', p.pidFile],
    switchTo: (address) => ['sh', '-c', SWITCH, 'fjord-proxy-switch', p.upstreamFile, p.upstream, p.pidFile, address],
    switchToContainer: (container, port) => [
      'sh',
      '-c',
      SWITCH,
      'fjord-proxy-switch',
      p.upstreamFile,
      p.upstream,
      p.pidFile,
      '',
      container,
      String(port),
    ],
  };
}
