// Transports: WeChat's wx.request, Alipay's my.request and fetch (Node 18+, browsers, tests).
// Each hands the body back as text, so that the client parses the envelope itself.

import type { HttpRequest, HttpResponse, Transport } from "./client.js";

/** The part of `wx.request` a transport uses. */
export interface WxLike {
  request(options: {
    url: string;
    method: HttpRequest["method"];
    header: Record<string, string>;
    data?: string;
    dataType: string;
    responseType: "text";
    timeout?: number;
    success: (result: { statusCode: number; header: Record<string, string>; data: unknown }) => void;
    fail: (error: { errMsg: string }) => void;
  }): unknown;
}

/** The part of `my.request` a transport uses. */
export interface MyLike {
  request(options: {
    url: string;
    method: HttpRequest["method"];
    headers: Record<string, string>;
    data?: string;
    dataType: "text";
    timeout?: number;
    success: (result: { status: number; headers: Record<string, string>; data: unknown }) => void;
    fail: (error: { error?: number; errorMessage?: string }) => void;
  }): unknown;
}

function lowerCased(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = String(value);
  return out;
}

function text(data: unknown): string {
  if (typeof data === "string") return data;
  return data === undefined || data === null ? "" : JSON.stringify(data);
}

/** WeChat: `wxTransport(wx)`. `dataType` other than `json` keeps the body as text. */
export function wxTransport(wx: WxLike, timeoutMs = 10_000): Transport {
  return (request) =>
    new Promise<HttpResponse>((resolve, reject) => {
      wx.request({
        url: request.url,
        method: request.method,
        header: request.headers,
        data: request.body,
        dataType: "text",
        responseType: "text",
        timeout: timeoutMs,
        success: (result) =>
          resolve({ status: result.statusCode, headers: lowerCased(result.header), body: text(result.data) }),
        fail: (error) => reject(new Error(error.errMsg)),
      });
    });
}

/** Alipay: `myTransport(my)`. Any HTTP status is a success for `my.request` (2.x base library). */
export function myTransport(my: MyLike, timeoutMs = 10_000): Transport {
  return (request) =>
    new Promise<HttpResponse>((resolve, reject) => {
      my.request({
        url: request.url,
        method: request.method,
        headers: request.headers,
        data: request.body,
        dataType: "text",
        timeout: timeoutMs,
        success: (result) =>
          resolve({ status: result.status, headers: lowerCased(result.headers), body: text(result.data) }),
        fail: (error) => reject(new Error(error.errorMessage ?? `my.request failed (${error.error ?? "?"})`)),
      });
    });
}

/** fetch: `fetchTransport()` or with a fetch of one's own. */
export function fetchTransport(fetchImpl: typeof fetch = fetch, timeoutMs = 10_000): Transport {
  return async (request) => {
    const response = await fetchImpl(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    return { status: response.status, headers, body: await response.text() };
  };
}
