// Parse results: a positive value is a head length, NEED_MORE asks for more
// bytes, and each negative value names one way a head is rejected.

export const NEED_MORE = 0;

export const E_BAD_REQUEST_LINE = -1;
export const E_BAD_METHOD = -2;
export const E_BAD_TARGET = -3;
export const E_BAD_VERSION = -4;
export const E_UNSUPPORTED_VERSION = -5;
export const E_LINE_TOO_LONG = -6;
export const E_HEAD_TOO_LARGE = -7;
export const E_TOO_MANY_FIELDS = -8;
export const E_BARE_LF = -9;
export const E_BARE_CR = -10;
export const E_CONTROL_CHAR = -11;
export const E_OBS_FOLD = -12;
export const E_SPACE_BEFORE_COLON = -13;
export const E_EMPTY_FIELD_NAME = -14;
export const E_BAD_FIELD_NAME = -15;
export const E_MISSING_COLON = -16;
export const E_BAD_CONTENT_LENGTH = -17;
export const E_CONTENT_LENGTH_CONFLICT = -18;
export const E_CL_AND_TE = -19;
export const E_TE_NOT_CHUNKED = -20;
export const E_BAD_TRANSFER_ENCODING = -21;
export const E_UNKNOWN_CODING = -22;
export const E_TE_IN_HTTP10 = -23;
export const E_MISSING_HOST = -24;
export const E_MULTIPLE_HOST = -25;
export const E_BAD_HOST = -26;
export const E_BAD_CONNECTION = -27;
export const E_BAD_STATUS_LINE = -28;
export const E_CONNECT_WITH_BODY = -29;

/** The most negative code in use: every result is >= this. */
export const LOWEST_ERROR = E_CONNECT_WITH_BODY;

const REASONS: readonly string[] = [
  "",
  "malformed request line",
  "invalid method",
  "invalid request-target",
  "malformed HTTP version",
  "HTTP version not supported",
  "request line too long",
  "header section too large",
  "too many header fields",
  "bare LF line terminator",
  "bare CR",
  "control character in header section",
  "obsolete line folding",
  "white space before colon",
  "empty header name",
  "invalid character in header name",
  "header line without colon",
  "invalid Content-Length",
  "conflicting Content-Length values",
  "both Content-Length and Transfer-Encoding",
  "Transfer-Encoding final coding is not chunked",
  "malformed Transfer-Encoding",
  "unknown transfer coding",
  "Transfer-Encoding in an HTTP/1.0 request",
  "missing Host header",
  "more than one Host header",
  "invalid Host header",
  "invalid Connection header",
  "malformed status line",
  "Content-Length or Transfer-Encoding in a CONNECT request",
];

/** Status to answer a client whose request head failed with `code`. */
export function errorStatus(code: number): number {
  switch (code) {
    case E_UNSUPPORTED_VERSION:
      return 505;
    case E_LINE_TOO_LONG:
      return 414;
    case E_HEAD_TOO_LARGE:
    case E_TOO_MANY_FIELDS:
      return 431;
    case E_UNKNOWN_CODING:
      return 501;
    default:
      return 400;
  }
}

/** Short human text for a parse error code. */
export function errorReason(code: number): string {
  return REASONS[-code] ?? "unknown error";
}
