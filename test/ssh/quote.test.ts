import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { UnsafeArgument } from '../../lib/ssh/unsafe-argument.js';
import { commandLine, joinArgv, quote } from '../../lib/ssh/quote.js';

const HOSTILE = [
  '',
  ' ',
  'a b',
  "it's",
  "''",
  "'\\''",
  '"double"',
  '; rm -rf /tmp/nothing-here',
  '$(touch /tmp/fjord-quote-pwned)',
  '`touch /tmp/fjord-quote-pwned`',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a hostile value, a shell expansion on purpose
  '${HOME}',
  '$HOME',
  '&& echo no',
  '| cat',
  '> /tmp/fjord-quote-pwned',
  'line1\nline2\n',
  '\ttab\r\n',
  '*',
  '~',
  '~root',
  '#comment',
  'a=b',
  '\\',
  '\\n',
  '!',
  '!!',
  '{a,b}',
  '[ab]',
  '-n',
  '--',
  'ünïcødé ✓ 日本語 🚀',
  '\x01\x1b[31mred\x7f',
];

/** Runs `printf '%s\0'` with the joined words through a real shell and splits on NUL. */
function throughShell(shell: string, words: string[]): string[] {
  const res = spawnSync(shell, ['-c', `printf '%s\\0' ${words.map(quote).join(' ')}`], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  return res.stdout.split('\0').slice(0, -1);
}

describe('quote', () => {
  it('leaves plain words bare and single-quotes everything else', () => {
    assert.equal(quote('docker'), 'docker');
    assert.equal(quote('registry.example.com:5000/acme/api:v1.2_3-rc'), 'registry.example.com:5000/acme/api:v1.2_3-rc');
    assert.equal(quote('--format'), '--format');
    assert.equal(quote(''), "''");
    assert.equal(quote('a b'), "'a b'");
    assert.equal(quote("it's"), "'it'\\''s'");
    assert.equal(quote('$(id)'), "'$(id)'");
    assert.equal(quote('`id`'), "'`id`'");
    assert.equal(quote('a;b'), "'a;b'");
    assert.equal(quote('x\ny'), "'x\ny'");
    assert.equal(quote('a=b'), "'a=b'");
    assert.equal(quote('~'), "'~'");
    assert.equal(quote('ü'), "'ü'");
  });

  it('round-trips hostile strings byte-exact through sh and bash', () => {
    for (const shell of ['/bin/sh', '/bin/bash']) {
      assert.deepEqual(throughShell(shell, HOSTILE), HOSTILE, shell);
    }
  });

  it('round-trips every single byte 1..255 (as UTF-8 text)', () => {
    const all = Array.from({ length: 255 }, (_, i) => String.fromCharCode(i + 1));
    assert.deepEqual(throughShell('/bin/sh', all), all);
  });

  it('rejects NUL, which a command string cannot carry', () => {
    assert.throws(() => quote('a\0b'), UnsafeArgument);
    assert.throws(() => joinArgv(['echo', 'a\0b']), UnsafeArgument);
  });
});

describe('joinArgv and commandLine', () => {
  it('joins quoted words with spaces', () => {
    assert.equal(joinArgv(['docker', 'run', '--label', 'app=api', 'img:tag']), "docker run --label 'app=api' img:tag");
    assert.equal(joinArgv(['printf', '%s', "a'b"]), "printf %s 'a'\\''b'");
  });

  it('quotes a reserved word in command position so the shell runs a command', () => {
    assert.equal(joinArgv(['time', 'true']), "'time' true");
    assert.equal(joinArgv(['echo', 'time']), 'echo time');
    const res = spawnSync('/bin/bash', ['-c', joinArgv(['if', 'x'])], { encoding: 'utf8' });
    assert.match(res.stderr, /if: command not found/);
  });

  it('does not let an assignment-looking first word become an assignment', () => {
    const res = spawnSync('/bin/sh', ['-c', joinArgv(['A=1', 'echo', 'ran'])], { encoding: 'utf8' });
    assert.notEqual(res.stdout, 'ran\n');
    assert.equal(res.status, 127);
  });

  it('rejects an empty argv', () => {
    assert.throws(() => joinArgv([]), UnsafeArgument);
  });

  it('prefixes environment assignments, values quoted, names checked', () => {
    assert.equal(commandLine(['env'], { A: 'x y', B: '' }), "A='x y' B='' env");
    assert.throws(() => commandLine(['env'], { 'A;rm': 'x' }), UnsafeArgument);
    assert.throws(() => commandLine(['env'], { '1A': 'x' }), UnsafeArgument);
    const value = HOSTILE.join('|');
    const res = spawnSync('/bin/sh', ['-c', commandLine(['sh', '-c', 'printf %s "$V"'], { V: value })], {
      encoding: 'utf8',
    });
    assert.equal(res.stdout, value);
  });
});
