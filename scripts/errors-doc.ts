/** Regenerate docs/errors.md from the registry in src/errors.ts: `node --import tsx scripts/errors-doc.ts`. */
import { writeFileSync } from 'node:fs';
import { ERROR_CODES } from '../src/errors.ts';

const lines = [
  '# Error codes',
  '',
  'Every expected failure carries one of these stable codes (`RsError.code`). Programs match on the',
  'code, never on the message. HTTP answers them as `{"error": {"code", "message"}}` with a 4xx status;',
  "the CLI prints the same object and exits 1. Subnode and peer replies use the protocol's own error",
  'strings on the wire instead (see docs/compatibility.md).',
  '',
  '| code | meaning |',
  '| --- | --- |',
  ...Object.entries(ERROR_CODES).map(([code, msg]) => `| \`${code}\` | ${msg} |`),
  '',
];
writeFileSync(new URL('../docs/errors.md', import.meta.url), lines.join('\n'));
