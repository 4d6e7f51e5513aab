// README.md's error table (between <!-- errors:start --> and <!-- errors:end -->), parsed: the rows that
// test/error-contract.test.ts triggers one by one and that test/fuzz.test.ts checks every thrown error
// against. SEGLOSS_ERROR_TABLE names another file to read (to try a draft of the table).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One row: the class, when it is thrown, the message pattern and its RegExp. */
export interface Row { type: string; when: string; message: string; regex: RegExp }

/**
 * What each ‹placeholder› of a pattern matches. The function, numbers, names and choices are
 * constrained (so that a row cannot swallow another's message); other parts match any text. Each also
 * matches `X`, which stands for a ${…} of a message template in src/ (the completeness scan).
 */
const NUMBER = '(?:-?\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?|-?Infinity|NaN|X)';
const PLACEHOLDERS: Record<string, string> = {
  fn: '(?:segloss(?:\\.\\w+)?|X)',
  name: '(?:[\\w$.]+(?:\\[\\w+\\])*|X)',
  choices: "(?:'[^']*'(?:, '[^']*')*|X)",
  n: NUMBER, i: NUMBER, C: NUMBER, rows: NUMBER,
};

/** A pattern (‹…› = a variable part) as an anchored RegExp. */
export function patternRegex(message: string): RegExp {
  let source = '';
  let last = 0;
  for (const m of message.matchAll(/‹([^›]*)›/g)) {
    source += message.slice(last, m.index).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    source += PLACEHOLDERS[m[1]!] ?? '[\\s\\S]*?';
    last = m.index! + m[0].length;
  }
  source += message.slice(last).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${source}$`);
}

/** The rows of the error table; [] when README.md has no such block. */
export function readTable(): Row[] {
  const path = process.env.SEGLOSS_ERROR_TABLE ?? fileURLToPath(new URL('../../README.md', import.meta.url));
  const text = readFileSync(path, 'utf8');
  const block = /^<!-- errors:start -->[ \t]*$([\s\S]*?)^<!-- errors:end -->[ \t]*$/m.exec(text)?.[1];
  if (block === undefined) return [];
  const rows: Row[] = [];
  for (const line of block.split('\n')) {
    // | `Type` | when | `message` | (the message in double backticks when it holds a backtick)
    const cells = /^\|\s*`(\w+)`\s*\|(.*)\|\s*(``? ?)(.*?)( ?``?)\s*\|\s*$/.exec(line.trim());
    if (!cells) continue;
    const [, type, when, , message] = cells;
    rows.push({ type: type!, when: when!.trim(), message: message!, regex: patternRegex(message!) });
  }
  return rows;
}
