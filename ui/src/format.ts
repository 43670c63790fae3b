/** Number and time formatting for the panels. */

export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function rate(n: number): string {
  if (n === 0) return '0';
  if (n < 10) return n.toFixed(1);
  return count(n);
}

/** "12 s ago", "5 min ago", "3 h ago". */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function isoTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

/** The last two groups of an address: how nodes are told apart at a glance. */
export function shortIp(ip: string): string {
  return '…' + ip.slice(-9);
}
