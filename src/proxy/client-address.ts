/** Listening on `::` shows IPv4 clients as `::ffff:1.2.3.4`; forwarding headers want `1.2.3.4`. */
export function plainAddress(remote: string): string {
  return remote.startsWith("::ffff:") && remote.includes(".") ? remote.substring(7) : remote;
}
