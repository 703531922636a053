/** The status view with every internal address in its free text replaced (lib/hide-addresses.ts). */
import type { Config } from '../config/schema.js';
import { hideAddresses, hostAddresses } from '../hide-addresses.js';
import type { StatusView } from './view.js';

export function hideViewAddresses(view: StatusView, hosts: Config['hosts']): StatusView {
  const addresses = hostAddresses(hosts);
  const hide = <T extends string | undefined>(s: T): T => (s === undefined ? s : (hideAddresses(s, addresses) as T));
  return {
    ...view,
    error: hide(view.error),
    deploysError: hide(view.deploysError),
    holdsError: hide(view.holdsError),
    ...(view.holds
      ? {
          holds: Object.fromEntries(
            Object.entries(view.holds).map(([k, h]) => [k, { ...h, by: hide(h.by), reason: hide(h.reason) }]),
          ),
        }
      : {}),
    deploys: view.deploys.map((d) => ({ ...d, subject: hide(d.subject), details: hide(d.details) })),
    ...(view.report
      ? {
          report: {
            ...view.report,
            environments: view.report.environments.map((e) => ({
              ...e,
              error: hide(e.error),
              hosts: e.hosts.map((h) => ({ ...h, error: hide(h.error) })),
            })),
          },
        }
      : {}),
  };
}
