/**
 * The port every proxy adapter fills (DESIGN.md: "one small TrafficSwitch-like port with one adapter per
 * proxy"): argv builders only, run on the host by the one SSH runner. `check` fails unless the proxy is
 * there and up (run before anything on the host is stopped or started); `switchTo` points the app's
 * upstream at `address` (`host:port`), validates the proxy's config and reloads it gracefully, putting
 * the previous upstream back when the new config does not validate or does not take.
 */
export interface TrafficSwitch {
  /** The proxy's name in reports (`nginx`). */
  kind: string;
  check(): string[];
  switchTo(address: string): string[];
  /** Like `switchTo`, with the address read on the host from `docker port <container> <port>/tcp`. */
  switchToContainer(container: string, containerPort: number): string[];
}

/** The upstream name of an app's environment in the proxy's config: `fjord_<app>_<env>` (`-` → `_`). */
export const upstreamName = (app: string, environment: string): string =>
  `fjord_${app}_${environment}`.replace(/-/g, '_');
