/** `snode ann|label|scheme …`: the protocol library on the command line. */
import type { Command } from 'commander';
import { RsError, attempt } from '../errors.ts';
import { announcementToJson, parseAnnouncement } from '../protocol/announcement.ts';
import { parseSchemeJs } from '../protocol/encoding-scheme.ts';
import { hexToBytes } from '../protocol/hex.ts';
import {
  LABEL_ALL_ONES,
  formatLabel,
  getEncodingForm,
  parseLabel,
  reEncode,
  splice,
  spliceJs,
  type DesiredForm,
} from '../protocol/routing-label.ts';
import { runJson, usage } from './output.ts';

function hexArg(text: string, what: string): Uint8Array {
  const clean = text.trim().replace(/^0x/i, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean))
    throw new RsError('RS_ERR_HEX_INVALID', `${what} must be an even number of hex digits`);
  return hexToBytes(clean.toLowerCase());
}

function schemeArg(text: string | undefined) {
  if (text === undefined) usage('--scheme <hex> is required');
  return parseSchemeJs(hexArg(text, '--scheme'));
}

export function registerProtocolCommands(program: Command): void {
  const ann = program.command('ann').description('signed announcements');
  ann
    .command('decode')
    .description('parse and verify an announcement given as hex; prints its fields')
    .argument('<hex>', 'the whole announcement (header + entities) as hex')
    .option('--no-verify', 'skip the signature check')
    .action((hex: string, opts: { verify: boolean }) =>
      runJson(() =>
        announcementToJson(
          parseAnnouncement(hexArg(hex, 'announcement'), { verifySignature: opts.verify }),
        ),
      ),
    );

  const label = program.command('label').description('routing labels');
  label
    .command('splice')
    .description(
      'splice labels, destination-most first (the last one is the first hop). cjdns C limits: a result over ' +
        '60 bits is ffff.ffff.ffff.ffff (C returns UINT64_MAX); --js uses cjdnsplice, which fails at 60 bits already',
    )
    .argument('<labels...>', 'two or more labels xxxx.xxxx.xxxx.xxxx')
    .option(
      '--js',
      'the original cjdnsplice limit (a result of 60 bits or more is ffff.ffff.ffff.ffff)',
    )
    .action((labels: string[], opts: { js?: boolean }) =>
      runJson(() => {
        if (labels.length < 2) usage('must have at least 2 args');
        const parsed = labels.map((l) => parseLabel(l));
        if (opts.js) return { label: formatLabel(spliceJs(...parsed)) };
        const r = attempt(() => splice(...parsed));
        if (!r.ok && r.error.code !== 'RS_ERR_LABEL_TOO_LONG') throw r.error;
        return { label: formatLabel(r.ok ? r.value : LABEL_ALL_ONES) };
      }),
    );
  label
    .command('form')
    .description('the encoding form number of a label in a scheme (-1 if none)')
    .argument('<label>', 'label xxxx.xxxx.xxxx.xxxx')
    .requiredOption('--scheme <hex>', 'serialized encoding scheme')
    .action((l: string, opts: { scheme: string }) =>
      runJson(() => ({ form: getEncodingForm(parseLabel(l), schemeArg(opts.scheme)) })),
    );
  label
    .command('reencode')
    .description('re-encode the first director of a label into another form of the scheme')
    .argument('<label>', 'label xxxx.xxxx.xxxx.xxxx')
    .requiredOption('--scheme <hex>', 'serialized encoding scheme')
    .requiredOption(
      '--form <n>',
      'desired form number, or "canonical" (the narrowest form that holds the director)',
    )
    .action((l: string, opts: { scheme: string; form: string }) =>
      runJson(() => {
        if (opts.form !== 'canonical' && !/^\d{1,2}$/.test(opts.form))
          usage('--form must be a small non-negative integer or "canonical"');
        const form: DesiredForm = opts.form === 'canonical' ? 'canonical' : Number(opts.form);
        return { label: formatLabel(reEncode(parseLabel(l), schemeArg(opts.scheme), form)) };
      }),
    );

  const scheme = program.command('scheme').description('encoding schemes');
  scheme
    .command('decode')
    .description('decode a serialized encoding scheme into its forms')
    .argument('<hex>', 'serialized scheme')
    .action((hex: string) =>
      runJson(() =>
        parseSchemeJs(hexArg(hex, 'scheme')).map((f) => ({
          bitCount: f.bitCount,
          prefixLen: f.prefixLen,
          prefix: f.prefix,
        })),
      ),
    );
}
