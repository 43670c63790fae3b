/** `snode key …` (what a key is: public key and cjdns IPv6) and `snode keygen` (a new identity). */
import type { Command } from 'commander';
import { RsError } from '../errors.ts';
import { hexToBytes } from '../protocol/hex.ts';
import {
  ip6FromPublicKey,
  ip6ToString,
  publicFromPrivate,
  publicKeyFromString,
  publicKeyToString,
} from '../protocol/keys.ts';
import { printError, printJson, runJson } from './output.ts';

/** A public key (`….k`) or a 32-byte private key (64 hex digits) → its key and IPv6. */
export function describeKey(text: string): { key: string; ipv6: string; publicKey?: string } {
  if (/^[0-9a-fA-F]{64}$/.test(text)) {
    const pub = publicFromPrivate(hexToBytes(text.toLowerCase()));
    return {
      key: publicKeyToString(pub),
      ipv6: ip6ToString(ip6FromPublicKey(pub)),
      publicKey: publicKeyToString(pub),
    };
  }
  const pub = publicKeyFromString(text);
  return { key: publicKeyToString(pub), ipv6: ip6ToString(ip6FromPublicKey(pub)) };
}

export function registerKeyCommands(program: Command): void {
  program
    .command('key')
    .description(
      'public keys (….k) or 32-byte private keys (64 hex digits) → key and cjdns IPv6, one JSON line per key',
    )
    .argument('<keys...>', 'public key strings ending in .k, or private keys as hex')
    .addHelpText(
      'after',
      '\nPrints {"key","ipv6"} per key (and "publicKey" for a private key), in the order given.\n' +
        'A key that is not valid gets an error line on stderr naming its position; the others are still\n' +
        'printed, and the exit status is 1.',
    )
    .action((keys: string[]) => {
      keys.forEach((text, i) => {
        try {
          printJson(describeKey(text));
        } catch (e) {
          const code = e instanceof RsError ? e.code : 'RS_ERR_INTERNAL';
          printError(
            keys.length === 1
              ? e
              : new RsError(code, `key ${i + 1} (${text.slice(0, 60)}): ${(e as Error).message}`),
          );
        }
      });
    });

  program
    .command('keygen')
    .description(
      'generate a new cjdns identity: {"privateKey","publicKey","ipv6"} (an fc00::/8 address)',
    )
    .option(
      '--cluster',
      'instead: a new cluster key (64 hex digits) for SNODE_CLUSTER_KEY / cluster.key',
    )
    .addHelpText(
      'after',
      '\nThe output is also the identity file format: `snode keygen > identity.json` (keep it 0600), or\n' +
        'give every process of a cluster the same SNODE_IDENTITY_PRIVATE_KEY.\n' +
        '`snode keygen --cluster` prints a cluster key: every process of a cluster on Redis needs the same\n' +
        'one (SNODE_CLUSTER_KEY); the bus envelopes carry its HMAC-SHA256 tag (docs/cluster.md).',
    )
    .action(async (opts: { cluster?: boolean }) => {
      if (opts.cluster) {
        const { generateClusterKey } = await import('../cluster/envelope-auth.ts');
        process.stdout.write(generateClusterKey() + '\n');
        return;
      }
      // identity.ts loads zod: only keygen pays for it
      const { generateIdentity, identityFileBody } = await import('../server/identity.ts');
      runJson(() => identityFileBody(generateIdentity(0)));
    });
}
