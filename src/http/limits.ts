/** Size bounds applied while parsing a message head. */
export interface HeadLimits {
  /** Longest accepted start line, without its CRLF. */
  maxRequestLine: number;
  /** Longest accepted head, from the first byte through the final CRLFCRLF. */
  maxHeadSize: number;
  /** Most header field lines accepted in one head. */
  maxHeaders: number;
}

export const DEFAULT_LIMITS: HeadLimits = {
  maxRequestLine: 8192,
  maxHeadSize: 16384,
  maxHeaders: 100,
};
