import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { buildCommitMessage, unknownPlaceholders } from '../../lib/manifest/commit-message.js';
import { InvalidCommitMessage } from '../../lib/manifest/store-errors.js';
import { formatTrailers, isFjordCommit, parseTrailers } from '../../lib/manifest/trailers.js';
import { job } from './helpers.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const gitParse = (message: string) =>
  execFileSync('git', ['interpret-trailers', '--parse'], { input: message, encoding: 'utf8' });

describe('commit message', () => {
  it('default template, then the Fjord trailers in a fixed order', () => {
    const message = buildCommitMessage(job('api', '1.4.2', { sha: SHA, id: 'job_12345678' }));
    assert.equal(
      message,
      [
        'deploy(api/prod): registry.example.com/acme/api:1.4.2',
        '',
        'Fjord-Job: job_12345678',
        'Fjord-Reason: merge',
        'Fjord-App: api',
        'Fjord-Environment: prod',
        'Fjord-Image: registry.example.com/acme/api',
        'Fjord-Tag: 1.4.2',
        `Fjord-Source: acme/api@${SHA}`,
        'Fjord-MR: acme/api!7',
        'Fjord-Author: Ada Person',
        '',
      ].join('\n'),
    );
  });

  it('fills every placeholder of a custom template and leaves out absent trailers', () => {
    const manual = job('api', 'v2', { sha: SHA, reason: 'manual', source: { author: 'ops' } });
    const message = buildCommitMessage(manual, {
      template: 'chore({env}): {app} → {tag} ({shortSha}, {reason}) [{image}] {sha}',
      trailers: { 'Fjord-Rollback-Of': 'v3' },
    });
    assert.equal(
      message.split('\n')[0],
      `chore(prod): api → v2 (01234567, manual) [registry.example.com/acme/api] ${SHA}`,
    );
    assert.deepEqual(Object.keys(parseTrailers(message)), [
      'Fjord-Job',
      'Fjord-Reason',
      'Fjord-App',
      'Fjord-Environment',
      'Fjord-Image',
      'Fjord-Tag',
      'Fjord-Source',
      'Fjord-Author',
      'Fjord-Rollback-Of',
    ]);
    assert.equal(parseTrailers(message)['Fjord-Source'], SHA, 'no project: the bare sha');
    const noSha = buildCommitMessage(job('api', 'v2', { sha: undefined, source: {} }));
    assert.equal(parseTrailers(noSha)['Fjord-Source'], undefined);
  });

  it('refuses unknown placeholders and values with newlines', () => {
    assert.deepEqual(unknownPlaceholders('deploy {app} {branch} {tag} {}'), ['branch', '']);
    assert.throws(
      () => buildCommitMessage(job('api', '1'), { template: 'deploy {branch}' }),
      (e: unknown) => e instanceof InvalidCommitMessage && /unknown placeholder \{branch\}/.test(e.message),
    );
    assert.throws(() => buildCommitMessage(job('api', '1\nFjord-Tag: evil')), InvalidCommitMessage);
    // An author is outside text: cleaned onto one line (cleanText), never a second trailer.
    const forged = parseTrailers(buildCommitMessage(job('api', '1', { source: { author: 'Eve\nFjord-Job: forged' } })));
    assert.equal(forged['Fjord-Author'], 'Eve Fjord-Job: forged');
    assert.equal(forged['Fjord-Job'], 'job-api-1');
    assert.equal(
      parseTrailers(buildCommitMessage(job('api', '1', { source: { author: 'Eve\u2028x' } })))['Fjord-Author'],
      'Eve x',
    );
    assert.throws(() => formatTrailers([['Bad Key', 'x']]), InvalidCommitMessage);
    assert.throws(() => buildCommitMessage(job('api', '1'), { template: '   ' }), InvalidCommitMessage);
  });

  it('git interpret-trailers reads the same trailers the parser reads', () => {
    const message = buildCommitMessage(job('api', '1.4.2', { sha: SHA }));
    const byGit = Object.fromEntries(
      gitParse(message)
        .trim()
        .split('\n')
        .map((l) => l.split(/: (.*)/).slice(0, 2)),
    );
    assert.deepEqual(parseTrailers(message), byGit);
  });
});

describe('trailer parser', () => {
  it('reads only the last paragraph, and only when it is all trailers', () => {
    assert.deepEqual(parseTrailers('subject only'), {});
    assert.deepEqual(parseTrailers('Fjord-Job: x'), {}, 'a lone subject is not a trailer block');
    assert.deepEqual(parseTrailers('subject\n\nbody mentions Fjord-Job: x in prose\n'), {});
    assert.deepEqual(parseTrailers('subject\n\nFjord-Job: a\nnot a trailer line\n'), {});
    assert.deepEqual(parseTrailers('subject\r\n\r\nbody\r\n\r\nFjord-Tag: 1.0\r\nCc: A\r\nCc: B\r\n'), {
      'Fjord-Tag': '1.0',
      Cc: 'B',
    });
    assert.deepEqual(parseTrailers('subject\n\nNote: long\n  continued\n'), { Note: 'long continued' });
  });

  it('recognises fjord’s own commits (converge skips them), not a person’s revert', () => {
    assert.equal(isFjordCommit(buildCommitMessage(job('api', '1'))), true);
    assert.equal(isFjordCommit('Revert "deploy(api/prod): x:1"\n\nThis reverts commit abc.\n'), false);
  });
});
