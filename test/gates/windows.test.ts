/** Freeze window evaluation (lib/gates/windows.ts) on croner: time zones, DST changes, GitLab's start/end crons, allow windows. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freezeSchema } from '../../lib/config/freezes.js';
import { blockedUntil, formatInZone, openSpan, type Window } from '../../lib/gates/windows.js';

const at = (iso: string) => new Date(iso);
const deny = (over: Partial<Window>): Window => ({
  label: 'w',
  kind: 'deny',
  cron: '0 18 24 12 *',
  durationMs: 48 * 3_600_000,
  timeZone: 'Europe/Berlin',
  ...over,
});

describe('freeze windows', () => {
  it('a Christmas freeze in Europe/Berlin holds until its end, in Berlin time, and not a minute after', () => {
    const w = deny({});
    assert.equal(
      blockedUntil([w], at('2026-12-24T16:59:00Z')),
      undefined,
      'before 18:00 Berlin (17:00 UTC) deploys run',
    );
    const b = blockedUntil([w], at('2026-12-24T17:00:00Z'));
    assert.equal(b?.until.toISOString(), '2026-12-26T17:00:00.000Z', 'open at its first minute');
    assert.equal(formatInZone(b!.until, 'Europe/Berlin'), '2026-12-26 18:00 Europe/Berlin');
    assert.equal(blockedUntil([w], at('2026-12-26T17:00:00Z')), undefined, 'closed at its end');
  });

  it('the same wall-clock window lands on other instants in other zones', () => {
    const tokyo = blockedUntil([deny({ timeZone: 'Asia/Tokyo' })], at('2026-12-24T09:30:00Z'));
    assert.equal(tokyo?.until.toISOString(), '2026-12-26T09:00:00.000Z');
    assert.equal(formatInZone(tokyo!.until, 'Asia/Tokyo'), '2026-12-26 18:00 Asia/Tokyo');
    assert.equal(
      blockedUntil([deny({ timeZone: 'America/New_York' })], at('2026-12-24T09:30:00Z')),
      undefined,
      'not yet 18:00 in New York',
    );
  });

  it('across the spring DST change a GitLab-style end cron ends at the wall-clock time, a duration at elapsed time', () => {
    // Europe/Berlin goes from UTC+1 to UTC+2 on 2026-03-29 at 02:00.
    const byEnd = blockedUntil(
      [deny({ cron: '0 20 * * 6', durationMs: undefined, until: '0 8 * * 1' })],
      at('2026-03-29T12:00:00Z'),
    );
    assert.equal(byEnd?.until.toISOString(), '2026-03-30T06:00:00.000Z', 'Monday 08:00 CEST');
    const byDuration = blockedUntil(
      [deny({ cron: '0 20 * * 6', durationMs: 36 * 3_600_000 })],
      at('2026-03-29T12:00:00Z'),
    );
    assert.equal(byDuration?.until.toISOString(), '2026-03-30T07:00:00.000Z', 'Saturday 20:00 CET + 36 h');
    assert.equal(
      formatInZone(byDuration!.until, 'Europe/Berlin'),
      '2026-03-30 09:00 Europe/Berlin',
      'an hour later on the wall clock',
    );
  });

  it('across the autumn DST change (a repeated hour) the end cron still ends at 08:00 local', () => {
    const b = blockedUntil(
      [deny({ cron: '0 20 * * 6', durationMs: undefined, until: '0 8 * * 1' })],
      at('2026-10-25T01:30:00Z'),
    );
    assert.equal(b?.until.toISOString(), '2026-10-26T07:00:00.000Z', 'Monday 08:00 CET (UTC+1 again)');
  });

  it('GitLab semantics: active when the last freeze_start is later than the last freeze_end', () => {
    const weekend = deny({ cron: '0 23 * * 5', durationMs: undefined, until: '0 7 * * 1', timeZone: 'UTC' });
    assert.ok(openSpan(weekend, at('2026-12-05T12:00:00Z')), 'Saturday');
    assert.equal(openSpan(weekend, at('2026-12-08T12:00:00Z')), undefined, 'Tuesday');
    assert.equal(openSpan(weekend, at('2026-12-04T22:59:00Z')), undefined, 'Friday 22:59');
  });

  it('allow windows: outside them a deploy waits for the next one to open; touching deny windows chain', () => {
    const office = {
      label: 'office',
      kind: 'allow' as const,
      cron: '0 9 * * 1-5',
      durationMs: 8 * 3_600_000,
      timeZone: 'Europe/Berlin',
    };
    const b = blockedUntil([office], at('2026-12-05T12:00:00Z'));
    assert.equal(b?.until.toISOString(), '2026-12-07T08:00:00.000Z', 'Monday 09:00 Berlin');
    assert.equal(b?.window.kind, 'allow');
    assert.equal(blockedUntil([office], at('2026-12-07T10:00:00Z')), undefined, 'Monday 11:00 Berlin');
    // A deny window inside an allow window holds until it ends; one that ends after the allow window
    // closed holds on to the next allow window.
    const lunch = deny({ label: 'lunch', cron: '0 12 * * *', durationMs: 3_600_000 });
    assert.equal(
      blockedUntil([office, lunch], at('2026-12-07T11:30:00Z'))?.until.toISOString(),
      '2026-12-07T12:00:00.000Z',
    );
    const late = deny({ label: 'late', cron: '30 16 * * *', durationMs: 3_600_000 });
    assert.equal(
      blockedUntil([office, late], at('2026-12-07T15:45:00Z'))?.until.toISOString(),
      '2026-12-08T08:00:00.000Z',
      'Tuesday 09:00 Berlin',
    );
    const first = deny({ cron: '0 0 1 1 *', durationMs: 3_600_000, timeZone: 'UTC' });
    const second = deny({ cron: '0 1 1 1 *', durationMs: 3_600_000, timeZone: 'UTC' });
    assert.equal(
      blockedUntil([first, second], at('2027-01-01T00:30:00Z'))?.until.toISOString(),
      '2027-01-01T02:00:00.000Z',
    );
  });

  it('fjord.yaml refuses a bad cron, an unknown time zone, and a window with both or neither of duration and until', () => {
    const ok = freezeSchema.safeParse({ cron: '0 18 24 12 *', duration: '14d', timeZone: 'Europe/Berlin' });
    assert.ok(ok.success);
    assert.equal(ok.data.duration, 14 * 86_400_000);
    const issues = (v: unknown) =>
      (freezeSchema.safeParse(v).error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
    assert.match(issues({ cron: '99 18 * * *', duration: '1h' }).join(), /cron: not a cron expression/);
    assert.match(
      issues({ cron: '0 18 * * *', duration: '1h', timeZone: 'Mars/Olympus' }).join(),
      /timeZone: not an IANA time zone/,
    );
    assert.match(issues({ cron: '0 18 * * *' }).join(), /exactly one of duration and until/);
    assert.match(
      issues({ cron: '0 18 * * *', duration: '1h', until: '0 8 * * 1' }).join(),
      /exactly one of duration and until/,
    );
  });
});
