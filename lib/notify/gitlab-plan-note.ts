/**
 * Where a plan goes (issue 7, item 3): one note per app on the open merge request, found again by its
 * hidden marker and edited in place (docs.gitlab.com/ee/api/notes.html#merge-requests: list, create,
 * modify), so new pushes and redeliveries — from any process — never add a second note. The MR itself is
 * read first (…/api/merge_requests.html#get-single-mr) so that a late plan of an older push is dropped.
 */
import { gitlabClientOptions, gitlabStatusOf } from '../gitlab-client.js';
import { MergeRequestNotes, MergeRequests } from '@gitbeaker/rest';
import type { Secret } from '../secret.js';
import type { PlanNotes } from './plan-notes.js';

export type { PlanNotes };

// Oldest first, 100 a page: the plan note is written when the MR opens, so it is on page one of all but
// the longest discussions; past this many pages a new note is written rather than reading on forever.
const MAX_PAGES = 10;

export class GitlabPlanNotes implements PlanNotes {
  readonly #notes: MergeRequestNotes<false>;
  readonly #mergeRequests: MergeRequests<false>;
  /** Note ids this process wrote, by project, MR and marker: saves the search on the next push. */
  readonly #ids = new Map<string, number>();

  constructor({ url, token, timeoutMs = 10_000 }: { url: string; token: Secret; timeoutMs?: number }) {
    // A token function: the raw value is read per request and never stored on the client objects.
    const options = gitlabClientOptions({ host: url, token, timeoutMs });
    this.#notes = new MergeRequestNotes<false>(options);
    this.#mergeRequests = new MergeRequests<false>(options);
  }

  async head(project: string, mr: number): Promise<{ state: string; sha: string | undefined }> {
    const m = await this.#mergeRequests.show(project, mr);
    return { state: String(m.state), sha: typeof m.sha === 'string' ? m.sha : undefined };
  }

  async upsert(project: string, mr: number, marker: string, body: string): Promise<{ id: number; created: boolean }> {
    const key = `${project}!${mr}${marker}`;
    const known = this.#ids.get(key) ?? (await this.#find(project, mr, marker));
    if (known !== undefined) {
      try {
        await this.#notes.edit(project, mr, known, { body });
        this.#ids.set(key, known);
        return { id: known, created: false };
      } catch (err) {
        // Deleted by a person since: write a new one. Anything else is the caller's to report.
        if (gitlabStatusOf(err) !== 404) throw err;
      }
    }
    const { id } = await this.#notes.create(project, mr, body);
    this.#ids.set(key, id);
    return { id, created: true };
  }

  async #find(project: string, mr: number, marker: string): Promise<number | undefined> {
    for (let page = 1; page <= MAX_PAGES; page++) {
      const notes = await this.#notes.all(project, mr, { sort: 'asc', orderBy: 'created_at', perPage: 100, page });
      const hit = notes.find((n) => !n.system && typeof n.body === 'string' && n.body.includes(marker));
      if (hit) return hit.id;
      if (notes.length < 100) return undefined;
    }
    return undefined;
  }
}
