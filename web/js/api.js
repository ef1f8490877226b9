// The ticket API: GET {apiUrl}health (unsigned) and GET/POST {apiUrl}ticket, SigV4-signed for execute-api with
// the session's credentials (aws4fetch, vendored).
//
// Signing region: the region named by the last /health answer, else the configured region. After a failover
// the API is served by the other region and a signature scoped to the old one is refused with a 403, so on a
// 403 the client asks /health again and retries once; when the 403 is about the security token it also
// renews the credentials before that retry.
//
// Events: "health" (detail: {region, status, reason} or {status: "unreachable", error}), "reachable" (a call
// got an answer, so the API is reachable again).

import { AwsV4Signer } from "../vendor/aws4fetch.esm.js";
import { ApiError, ClockSkewError, SessionExpiredError, fetchOrUnreachable, jsonOf } from "./errors.js";

const SERVICE = "execute-api";
const CLOCK_SKEW = /signature expired|not yet current/i;
const TOKEN_PROBLEM = /expired|security token/i;

export class Api extends EventTarget {
  constructor(settings, session) {
    super();
    this.settings = settings;
    this.session = session;
    this.servingRegion = null; // from the last /health answer
  }

  get signingRegion() {
    return this.servingRegion || this.settings.region;
  }

  // GET /health: {region, status: "healthy"|"unhealthy"|"unknown", reason}. Throws UnreachableError.
  async health() {
    let response;
    try {
      response = await fetchOrUnreachable("Wild Rydes API", this.settings.apiUrl + "health", {
        cache: "no-store",
        credentials: "omit",
      }, 10000);
    } catch (err) {
      this.dispatchEvent(new CustomEvent("health", { detail: { status: "unreachable", error: err } }));
      throw err;
    }
    this.dispatchEvent(new Event("reachable"));
    const data = await jsonOf(response);
    const region = typeof data.region === "string" && data.region ? data.region : null;
    if (region) this.servingRegion = region;
    let status = "unknown";
    if (response.status === 200 && data.status === "healthy") status = "healthy";
    else if (response.status === 503 || data.status === "unhealthy") status = "unhealthy";
    const reason = typeof data.reason === "string" ? data.reason : response.ok ? "" : `HTTP ${response.status}`;
    const detail = { region, status, reason };
    this.dispatchEvent(new CustomEvent("health", { detail }));
    return detail;
  }

  // GET /ticket: one page, newest first: {tickets, next}.
  async listTickets(next = null) {
    let path = `ticket?limit=${this.settings.pageSize}`;
    if (next) path += `&next=${encodeURIComponent(next)}`;
    const data = await this.call("GET", path);
    return {
      tickets: Array.isArray(data.tickets) ? data.tickets : [],
      next: typeof data.next === "string" && data.next ? data.next : null,
    };
  }

  // POST /ticket: the created ticket. A 400 throws ApiError with the API's own message.
  async createTicket(fields) {
    return this.call("POST", "ticket", JSON.stringify(fields));
  }

  async call(method, path, body) {
    let response = await this.send(method, path, body);
    if (response.status === 403) {
      const first = (await jsonOf(response)).message || "";
      // Which region serves the API now? (Failover changes it.) Then sign again and retry, once.
      await this.health();
      if (TOKEN_PROBLEM.test(first) && !CLOCK_SKEW.test(first)) await this.session.renew();
      response = await this.send(method, path, body);
    }
    const data = await jsonOf(response);
    if (response.ok) return data;
    const message = typeof data.message === "string" && data.message ? data.message : `The API answered ${response.status}.`;
    if (response.status === 403) {
      if (CLOCK_SKEW.test(message)) throw new ClockSkewError(message);
      if (/expired/i.test(message)) {
        this.session.expire();
        throw new SessionExpiredError();
      }
    }
    const requestId = typeof data.requestId === "string" ? ` (request id ${data.requestId})` : "";
    throw new ApiError(response.status, message + requestId);
  }

  async send(method, path, body) {
    const creds = await this.session.credentials();
    const url = this.settings.apiUrl + path;
    const headers = body === undefined ? {} : { "Content-Type": "application/json" };
    const signer = new AwsV4Signer({
      method,
      url,
      headers,
      body,
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      sessionToken: creds.sessionToken,
      service: SERVICE,
      region: this.signingRegion,
    });
    const signed = await signer.sign();
    const response = await fetchOrUnreachable("Wild Rydes API", url, {
      method,
      headers: signed.headers,
      body,
      cache: "no-store",
      credentials: "omit",
    });
    this.dispatchEvent(new Event("reachable"));
    return response;
  }
}
