// The venuecode API for a mini-program: one typed call per operation of api-spec/openapi.yaml
// (types in api.d.ts, generated from it), over any transport (wx.request, my.request, fetch).
// It adds the session token, turns the error envelope into an `ApiError` with the document's
// codes, waits `Retry-After` (with jitter, never at once) before sending again what the server
// shed, and sends every scan with an `Idempotency-Key` kept across its retries, so that a scan
// whose answer was lost is recorded once.

import type { components, paths } from "./api.js";

export type Schemas = components["schemas"];
export type ErrorCode = Schemas["ErrorCode"];
export type FieldErrorCode = Schemas["FieldErrorCode"];
/** Any error the server answers; narrowing on `code` types `details` (`too_far_from_venue` →
 * `distance_m`, `max_distance_m`). Each operation's own codes are in `paths[P][M]["responses"]`. */
export type ErrorBody = Schemas["ErrorEnvelope"]["error"];

/** A request as a transport sends it. */
export interface HttpRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** An answer as a transport hands it back: the body as text, header names in lower case. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends one request; rejects only when no answer came (no network, a timeout). */
export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

/** A failure the server answered with its envelope, or one that never reached it. */
export class ApiError extends Error {
  constructor(
    /** The HTTP status; 0 when no answer came. */
    readonly status: number,
    /** The envelope's code; `network_error` when no answer came; a newer server's code as is. */
    readonly code: ErrorCode | "network_error" | (string & {}),
    /** For the person, in Chinese. */
    message: string,
    /** Per code; for `validation_failed` and `invalid_query`, field path → {code, message}. */
    readonly details: Record<string, unknown>,
    /** Seconds to wait before sending again, when the server said. */
    readonly retryAfter: number | null,
    /** The envelope's `error`, typed per code; null when no envelope came. */
    readonly body: ErrorBody | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The field errors of a 422 `validation_failed` or 400 `invalid_query`, by field path. */
  fieldErrors(): Schemas["FieldErrors"] {
    const body = this.body;
    if (body?.code === "validation_failed" || body?.code === "invalid_query") return body.details;
    return {};
  }
}

type Method = "get" | "post" | "put" | "patch" | "delete";
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type JsonOf<X> = X extends { content: { "application/json": infer T } }
  ? T
  : X extends { content: { "application/jwk-set+json": infer T } }
    ? T
    : undefined;
type Success<O> = O extends { responses: infer R }
  ? 200 extends keyof R
    ? JsonOf<R[200]>
    : 201 extends keyof R
      ? JsonOf<R[201]>
      : undefined
  : never;
type BodyOf<O> = O extends { requestBody: { content: { "application/json": infer B } } }
  ? { body: B }
  : O extends { requestBody?: { content: { "application/json": infer B } } }
    ? { body?: B }
    : { body?: undefined };
type PathOf<O> = O extends { parameters: { path: infer P } } ? { path: P } : { path?: undefined };
type QueryOf<O> = O extends { parameters: { query?: infer Q } }
  ? [Q] extends [undefined]
    ? { query?: undefined }
    : { query?: Q }
  : { query?: undefined };

/** What a call takes: its path parameters, query and body as the document types them. */
export type CallOptions<O> = PathOf<O> &
  QueryOf<O> &
  BodyOf<O> & {
    /** Makes the call safe to send again; scans get one of their own when none is given. */
    idempotencyKey?: string;
  };

export interface ClientOptions {
  /** The server, e.g. `https://code.example.gov.cn` (no trailing slash needed). */
  baseUrl: string;
  transport: Transport;
  /** Sends after a shed answer or a lost one at most this many times more (default 3). */
  maxRetries?: number;
  /** Waits; replaceable in tests. */
  sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1) for the jitter; replaceable in tests. */
  random?: () => number;
}

/** Paths whose POST is sent with an `Idempotency-Key` even when the caller gives none. */
const ALWAYS_KEYED: ReadonlySet<string> = new Set(["/api/v1/check-ins"]);

export class VenuecodeClient {
  /** The session token, from a login; sent as `Authorization: Bearer`. */
  token: string | null = null;
  private readonly baseUrl: string;
  private readonly transport: Transport;
  private readonly maxRetries: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.transport = options.transport;
    this.maxRetries = options.maxRetries ?? 3;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  get<P extends PathsWith<"get">>(path: P, options: CallOptions<Operation<P, "get">>) {
    return this.call<P, "get">("get", path, options);
  }

  post<P extends PathsWith<"post">>(path: P, options: CallOptions<Operation<P, "post">>) {
    return this.call<P, "post">("post", path, options);
  }

  put<P extends PathsWith<"put">>(path: P, options: CallOptions<Operation<P, "put">>) {
    return this.call<P, "put">("put", path, options);
  }

  patch<P extends PathsWith<"patch">>(path: P, options: CallOptions<Operation<P, "patch">>) {
    return this.call<P, "patch">("patch", path, options);
  }

  delete<P extends PathsWith<"delete">>(path: P, options: CallOptions<Operation<P, "delete">>) {
    return this.call<P, "delete">("delete", path, options);
  }

  /** Every item of a list that comes a page at a time (`next_cursor`), page after page: `for
   * await (const alert of api.all("/api/v1/alerts", { query: { status: "all" } }))`. */
  async *all<P extends PagedPaths>(
    path: P,
    options: CallOptions<Operation<P, "get">>,
  ): AsyncGenerator<ItemOf<Operation<P, "get">>> {
    let cursor: string | null = null;
    do {
      const query: Record<string, unknown> = { ...options.query };
      if (cursor !== null) query.cursor = cursor;
      const url = this.baseUrl + fillPath(path, options.path) + queryString(query);
      const answer = await this.send({ method: "GET", url, headers: this.headers() }, true);
      const page: unknown = JSON.parse(answer.body);
      if (!isPage<ItemOf<Operation<P, "get">>>(page)) throw new TypeError(`${path} is not a paged list`);
      yield* page.items;
      cursor = page.next_cursor;
    } while (cursor !== null);
  }

  /** Any text answer (a code's SVG); failures as `ApiError`. */
  async text(path: string): Promise<string> {
    const answer = await this.send({ method: "GET", url: this.baseUrl + path, headers: this.headers() }, false);
    return answer.body;
  }

  private async call<P extends keyof paths, M extends Method>(
    method: M,
    path: P,
    options: CallOptions<Operation<P, M>>,
  ): Promise<Success<Operation<P, M>>> {
    const headers = this.headers();
    let key = options.idempotencyKey;
    if (key === undefined && method === "post" && ALWAYS_KEYED.has(path)) key = newKey(this.random);
    if (key !== undefined) headers["idempotency-key"] = key;
    const request: HttpRequest = {
      method: method.toUpperCase() as HttpRequest["method"],
      url: this.baseUrl + fillPath(path, options.path) + queryString(options.query),
      headers,
    };
    if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      request.body = JSON.stringify(options.body);
    }
    // A GET, or a request with a key, may be sent again after no answer came.
    const answer = await this.send(request, method === "get" || key !== undefined);
    if (answer.status === 204 || answer.body === "") return undefined as Success<Operation<P, M>>;
    return JSON.parse(answer.body) as Success<Operation<P, M>>;
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token !== null) headers.authorization = `Bearer ${this.token}`;
    return headers;
  }

  /** Sends, and again after a shed answer (503, or 409 `idempotency_key_in_flight`) or a lost one. */
  private async send(request: HttpRequest, resendWhenLost: boolean): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      let answer: HttpResponse;
      try {
        answer = await this.transport(request);
      } catch (cause) {
        if (!resendWhenLost || attempt >= this.maxRetries) {
          throw new ApiError(0, "network_error", "网络连接失败，请稍后再试", { cause: String(cause) }, null);
        }
        await this.sleep(this.backoff(null, attempt));
        continue;
      }
      if (answer.status < 400) return answer;
      const error = toApiError(answer);
      const shed = answer.status === 503 || error.code === "idempotency_key_in_flight";
      if (!shed || attempt >= this.maxRetries) throw error;
      await this.sleep(this.backoff(error.retryAfter, attempt));
    }
  }

  /** `Retry-After` (or 1 s, doubling) stretched by up to half again at random: never at once. */
  private backoff(retryAfter: number | null, attempt: number): number {
    const base = (retryAfter ?? 2 ** attempt) * 1000;
    return Math.max(base, 1000) * (1 + this.random() / 2);
  }
}

/** An item of a paged list's answer (`{items, next_cursor}`). */
type ItemOf<O> = Success<O> extends { items: (infer I)[]; next_cursor: string | null } ? I : never;
/** The paths whose GET answers a paged list. */
type PagedPaths = {
  [P in PathsWith<"get">]: [ItemOf<Operation<P, "get">>] extends [never] ? never : P;
}[PathsWith<"get">];

function isPage<I>(value: unknown): value is { items: I[]; next_cursor: string | null } {
  return (
    isRecord(value) &&
    Array.isArray(value.items) &&
    (value.next_cursor === null || typeof value.next_cursor === "string")
  );
}

type PathsWith<M extends Method> = {
  [P in keyof paths]: paths[P] extends Record<M, unknown> ? P : never;
}[keyof paths];

function toApiError(answer: HttpResponse): ApiError {
  const retryAfter = Number.parseInt(answer.headers["retry-after"] ?? "", 10);
  const seconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null;
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    // Not the envelope (a proxy's page): described by its status alone.
  }
  const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : null;
  if (error !== null && isErrorBody(error)) {
    return new ApiError(answer.status, error.code, error.message, error.details, seconds, error);
  }
  if (error !== null && typeof error.code === "string" && typeof error.message === "string") {
    // An envelope this kit does not know (a newer server): its code and message, untyped.
    const details = isRecord(error.details) ? error.details : {};
    return new ApiError(answer.status, error.code, error.message, details, seconds);
  }
  const code: ErrorCode = answer.status === 503 ? "overloaded" : "internal_error";
  return new ApiError(answer.status, code, "服务暂时不可用，请稍后再试", {}, seconds);
}

/** Every code of the document's `ErrorCode`; the check below fails to compile when the document
 * gains one this list lacks. */
const ERROR_CODES = [
  "malformed_json", "unsupported_media_type", "payload_too_large", "invalid_query", "validation_failed",
  "not_found", "method_not_allowed", "overloaded", "database_unavailable", "internal_error", "unauthorized",
  "forbidden", "invalid_credentials", "login_too_old", "too_many_requests", "platform_code_invalid",
  "platform_user_blocked", "platform_unavailable", "platform_not_configured", "identity_already_bound",
  "verification_failed", "identity_mismatch", "venue_locked", "entrance_name_taken", "venue_not_active",
  "entrance_closed", "venue_suspended", "venue_not_suspended", "follow_up_closed", "venue_not_pending",
  "invalid_venue_code", "venue_code_revoked", "invitation_invalid", "consent_required", "too_far_from_venue",
  "location_required", "companion_not_found", "companion_not_eligible", "too_many_companions",
  "companion_has_account", "companion_exists", "companion_not_accepted", "companion_request_not_found",
  "invalid_paper_code", "paper_code_expired", "paper_code_revoked", "second_official_required",
  "change_not_pending", "outside_region", "idempotency_key_invalid", "idempotency_key_reused",
  "idempotency_key_in_flight",
] as const satisfies readonly ErrorCode[];
type Unlisted = Exclude<ErrorCode, (typeof ERROR_CODES)[number]>;
const everyCodeListed: [Unlisted] extends [never] ? true : Unlisted = true;
const KNOWN_CODES: ReadonlySet<string> = everyCodeListed ? new Set<string>(ERROR_CODES) : new Set();

/** The envelope's `error` with a code of the document and an object of details. The shape of
 * `details` follows from the code as the document says (the server's own tests hold its error
 * answers to the document); a code unknown to this kit is an `ApiError` without `body`. */
function isErrorBody(error: Record<string, unknown>): error is ErrorBody & Record<string, unknown> {
  return (
    typeof error.code === "string" &&
    KNOWN_CODES.has(error.code) &&
    typeof error.message === "string" &&
    isRecord(error.details)
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fillPath(path: string, params: Record<string, string | number> | undefined): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined) throw new Error(`path parameter ${name} missing for ${path}`);
    return encodeURIComponent(String(value));
  });
}

function queryString(query: object | undefined): string {
  if (query === undefined) return "";
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length === 0 ? "" : `?${parts.join("&")}`;
}

/** A new key: 128 random bits as hex (crypto where the platform has it). */
export function newKey(random: () => number = Math.random): string {
  const bytes = new Uint8Array(16);
  const crypto = (globalThis as { crypto?: { getRandomValues?: (array: Uint8Array) => Uint8Array } }).crypto;
  if (crypto?.getRandomValues) crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
