/**
 * Text from webhooks and hosts is data (issue 12, item 8): author names, error messages and stderr reach
 * commits, MR notes and chat cleaned by one function (`cleanText`), stderr fenced by a backtick run longer
 * than any inside it, and no `@mention` pings nor closing pattern (`Closes #1`) closes an issue.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { cleanText, fenceBlock, neutralizeReferences } from '../../lib/grammar.js';
import { buildCommitMessage } from '../../lib/manifest/commit-message.js';
import { parseTrailers } from '../../lib/manifest/trailers.js';
import { renderChatText } from '../../lib/notify/render-chat.js';
import { renderFinishedNote } from '../../lib/notify/render-note.js';
import { renderTimeline } from '../../lib/notify/render-timeline.js';
import { Timeline } from '../../lib/notify/timeline.js';
import type { RolloutReport } from '../../lib/rollout/types.js';
import { makeJob } from '../fixtures/jobs.js';

// Right-to-left override, isolates, zero-width space and joiner, BOM, ANSI escape, NUL, bell, line and
// paragraph separators, NEL: each changes how a text reads (or where a line ends), none what it says.
const HIDDEN = [
  '\u202e',
  '\u2066',
  '\u2069',
  '\u200b',
  '\u200d',
  '\ufeff',
  '\u001b',
  '\u0000',
  '\u0007',
  '\u2028',
  '\u2029',
  '\u0085',
];
const hasHidden = (s: string) =>
  HIDDEN.filter((c) => s.includes(c)).map((c) => `U+${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);

// GitLab's default issue closing pattern (docs.gitlab.com/administration/issue_closing_pattern/), with
// %{issue_ref} as a local or cross-project reference or an issue URL.
const ISSUE_REF = String.raw`(?:[\w./-]*#\d+|https?://\S+/issues/\d+)`;
const GITLAB_CLOSING = new RegExp(
  String.raw`\b((?:[Cc]los(?:e[sd]?|ing)|\b[Ff]ix(?:e[sd]|ing)?|\b[Rr]esolv(?:e[sd]?|ing)|\b[Ii]mplement(?:s|ed|ing)?)(:?) +(?:(?:issues? +)?${ISSUE_REF}(?:(?: *,? +and +| *,? *)?)|([A-Z][A-Z0-9_]+-\d+))+)`,
);
// A mention outside code: `@name` not directly inside a backtick run.
const bareMention = (s: string, name: string) => new RegExp(String.raw`(?<!\x60)@${name}(?![\w\x60])`).test(s);

const STDERR =
  'docker: Error response from daemon: manifest unknown.\n```\n@alice see ````fence```` Closes #12\u202e\u2028gnp.exe\n';

const failedReport = (message: string, stderrTail: string): RolloutReport => ({
  ok: false,
  durationMs: 1200,
  hosts: [{ host: 'web-1', status: 'rolled-back', step: 'pull', timings: {} }],
  failed: { host: 'web-1', step: 'pull', message, errorName: 'CommandFailed', stderrTail },
});

describe('outside text in commits, notes and chat', () => {
  it('cleanText drops control, bidi, zero-width and line-separator characters, keeping lines only when asked', () => {
    const text = `a${HIDDEN.join('')}b\r\nc\td`;
    // U+2028, U+2029 and NEL end lines (as CR LF does): one space in a single line, three breaks in lines.
    assert.equal(cleanText(text), 'a b c d');
    assert.equal(cleanText(text, { lines: true }), 'a\n\n\nb\nc\td');
    assert.deepEqual(hasHidden(cleanText(text, { lines: true })), []);
    assert.equal(cleanText('Ünïcode ✓ 日本 🚀'), 'Ünïcode ✓ 日本 🚀');
  });

  it('a fence is longer than any backtick run inside it, so stderr cannot close it, and the text is kept as it was', () => {
    const block = fenceBlock(STDERR);
    const [open, ...rest] = block.split('\n');
    assert.equal(open, '`````');
    assert.equal(rest.at(-1), open);
    assert.equal(block.split('\n').filter((l) => /^`{3,}\s*$/.test(l) && l.length >= open!.length).length, 2);
    assert.ok(block.includes('@alice see ````fence```` Closes #12'), block);
  });

  it('the MR note fences stderr verbatim, and its failure line neither pings nor reorders', () => {
    const job = makeJob();
    const note = renderFinishedNote(job, {
      status: 'failed',
      detail: 'failed: @alice \u202eexe.gnp',
      rollout: failedReport('`docker pull` exited 1: ping @bob here', STDERR),
    });
    assert.deepEqual(hasHidden(note), [], note);
    assert.ok(
      note.includes(
        '\n`````\ndocker: Error response from daemon: manifest unknown.\n```\n@alice see ````fence```` Closes #12\n',
      ),
      note,
    );
    for (const name of ['alice', 'bob']) {
      const outside = note
        .split(/^`````$/m)
        .filter((_, i) => i % 2 === 0)
        .join('');
      assert.equal(bareMention(outside, name), false, `@${name} outside code in:\n${note}`);
    }
    assert.ok(note.includes('`docker pull` exited 1: ping ``@bob`` here'), note);
  });

  it('timeline rows in the note do not ping either', () => {
    const timeline = new Timeline(new Date(0).toISOString(), { now: () => 1000 });
    timeline.mark('failed', 'failed at pull: Fixes #3 @carol\u202e', false);
    const rows = renderTimeline(timeline).join('\n');
    assert.equal(bareMention(rows, 'carol'), false, rows);
    assert.deepEqual(hasHidden(rows), []);
  });

  it('chat: @channel in a failure is a code span, and hidden characters are gone', () => {
    const links = { mergeRequest: () => undefined, manifestCommit: () => undefined };
    const text = renderChatText(
      makeJob(),
      { status: 'failed', rollout: failedReport('`docker` said @channel \u202eevil\u2028more', '') },
      { links },
    );
    assert.deepEqual(hasHidden(text), [], text);
    assert.match(text, /said `@channel` evil more/);
    assert.equal(bareMention(text, 'channel'), false);
  });

  it('commit messages: a host’s stderr or an author cannot close an issue or ping anyone, and git reads the same trailers', () => {
    const job = makeJob({
      source: { provider: 'gitlab', project: 'acme/api', ref: 'main', mr: 4, author: 'Eve \u202e@root Closes #1' },
    });
    const body =
      'host web-1 failed at start: Closes #12, fixes acme/api#7 and https://gitlab.example.com/acme/api/issues/9\nResolves OPS-12 @alice\u2028@bob';
    const message = buildCommitMessage({ ...job, reason: 'rollback' }, { body });
    assert.equal(GITLAB_CLOSING.exec(message), null, message);
    for (const name of ['root', 'alice', 'bob'])
      assert.equal(bareMention(message, name), false, `@${name} in:\n${message}`);
    assert.deepEqual(hasHidden(message), []);
    assert.equal(parseTrailers(message)['Fjord-Author'], 'Eve `@root` Closes `#1`');
    const byGit = execFileSync('git', ['interpret-trailers', '--parse'], { input: message, encoding: 'utf8' });
    assert.match(byGit, /^Fjord-Author: Eve `@root` Closes `#1`$/m);
  });

  it('the neutraliser leaves e-mail addresses and text without references alone', () => {
    assert.equal(
      neutralizeReferences('mail ada@example.com about closing the #ops channel', { closing: true }),
      'mail ada@example.com about closing the #ops channel',
    );
    // A span never pairs with the text's own backticks: its run is longer.
    assert.equal(neutralizeReferences('`x` @a `y`'), '`x` ``@a`` `y`');
  });
});
