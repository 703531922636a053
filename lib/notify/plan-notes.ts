/**
 * Where a plan goes (issue 7, item 3), whatever the platform: one comment per app on the open merge
 * request / pull request, found again by its hidden marker and edited in place. GitLab: gitlab-plan-note.ts;
 * GitHub: github-plan-note.ts.
 */
export interface PlanNotes {
  /** The MR's state (`opened`, `merged`, `closed`) and head commit now. */
  head(project: string, mr: number): Promise<{ state: string; sha: string | undefined }>;
  /** Edits the note carrying `marker`, or creates it. */
  upsert(project: string, mr: number, marker: string, body: string): Promise<{ id: number; created: boolean }>;
}
