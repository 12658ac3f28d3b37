/**
 * The hostname a request asks for, as rules are keyed: without the port, without
 * a trailing dot, lower-case. `[::1]:8080` keeps its brackets: IPv6 literals
 * never match a rule's labels, so they resolve to `unknown`.
 */
export function canonicalHost(host: string | null): string {
  if (host === null) return "";
  let end = host.length;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf("]");
    end = close < 0 ? end : close + 1;
  } else {
    const colon = host.indexOf(":");
    if (colon >= 0) end = colon;
  }
  if (end > 0 && host.charCodeAt(end - 1) === 46 /* . */) end--;
  const name = end === host.length ? host : host.substring(0, end);
  return hasUpper(name) ? name.toLowerCase() : name;
}

function hasUpper(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) return true;
  }
  return false;
}

/** The canonical host of an absolute-form target (`http://Host:80/path` → `host`). */
export function authorityHost(target: string): string {
  const start = target.indexOf("://") + 3;
  let end = start;
  while (end < target.length && target[end] !== "/" && target[end] !== "?") end++;
  return canonicalHost(target.slice(start, end));
}
