/** Our identity as reported by the attached cjdns node (`Core_nodeInfo`). */
import { RsError } from '../errors.ts';
import type { NodeInfo } from '../protocol/admin-frame.ts';
import {
  ip6FromPublicKey,
  ip6ToString,
  normalizeIp6,
  parseNodeName,
  publicKeyFromString,
} from '../protocol/keys.ts';
import type { SelfIdentity } from '../server/identity.ts';

/** The route server's identity from `Core_nodeInfo` (no private key: cjdns keeps it). */
export function identityFromNodeInfo(info: NodeInfo): SelfIdentity {
  const name = parseNodeName(info.myAddr);
  const publicKey = publicKeyFromString(name.key);
  const ip = ip6FromPublicKey(publicKey);
  const ipv6 = ip6ToString(ip);
  if (ip[0] !== 0xfc) {
    throw new RsError(
      'RS_ERR_ADMIN_INVALID',
      `Core_nodeInfo: key of ${info.myAddr} gives ${ipv6}, not an fc00::/8 address`,
    );
  }
  let reported: string;
  try {
    reported = normalizeIp6(info.myIp6);
  } catch {
    throw new RsError(
      'RS_ERR_ADMIN_INVALID',
      `Core_nodeInfo: myIp6 [${info.myIp6}] is not an IPv6 address`,
    );
  }
  if (reported !== ipv6) {
    throw new RsError(
      'RS_ERR_ADMIN_INVALID',
      `Core_nodeInfo: myIp6 ${reported} does not match the key of myAddr (${ipv6})`,
    );
  }
  return { privateKey: undefined, publicKey, key: name.key, ipv6, version: name.v };
}
