// The ticket API: GET {base}health (unsigned) and the signed owner routes GET/POST {base}owners/{owner}/tickets
// and POST {base}owners/{owner}/claims, SigV4-signed for execute-api with the session's credentials (aws4fetch,
// vendored). {base} and the signing region come from the region router (failover.js).
//
// A call that gets no answer or a 5xx is sent again at once to the other region's API, signed for that region
// (credentials from either identity pool sign for either region: IAM is global); when that one answers, the
// router keeps the page there. A create carries the client's ticket id, and the API's put is conditional on it,
// so sending it twice (to either region) makes one ticket.
//
// After a 403 the client asks /health again (which region serves the API now?) and retries once; when the 403
// is about the security token it also renews the credentials before that retry.
//
// Events: "health" (detail: {region, status, reason} or {status: "unreachable", error}), "reachable" (a call
// got an answer, so the API is reachable again).

import { AwsV4Signer } from "../vendor/aws4fetch.esm.js";
import {
  ApiError, ClockSkewError, SessionExpiredError, UnreachableError, fetchOrUnreachable, isServiceDown, jsonOf,
} from "./errors.js";

const SERVICE = "execute-api";
const CLOCK_SKEW = /signature expired|not yet current/i;
const TOKEN_PROBLEM = /expired|security token/i;
const HEALTH_TIMEOUT_MS = 10000;

// A fresh ticket id: crypto.randomUUID where the browser has it, else a version-4 UUID from getRandomValues.
export function newTicketId() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// An outcome {response} or {error}: is it the region's failure (no answer, or a 5xx)?
const regionFailed = (outcome) => (outcome.error ? isServiceDown(outcome.error) : outcome.response.status >= 500);

export class Api extends EventTarget {
  constructor(settings, session, router) {
    super();
    this.settings = settings;
    this.session = session;
    this.router = router;
  }

  // GET /health of the API the page uses: {region, status: "healthy"|"unhealthy"|"unknown", reason}. When it
  // is out and the other region's is healthy, the page fails over to that one. Throws UnreachableError.
  async health() {
    const target = this.router.target();
    let outcome = await this.healthOf(target);
    if (this.router.canFailOver && (outcome.error || outcome.response.status >= 500)) {
      const other = this.router.alternative(target);
      const second = await this.healthOf(other);
      if (!second.error && second.response.status === 200) {
        this.router.pin(other.region, target.region);
        outcome = second;
      }
    }
    if (outcome.error) {
      this.dispatchEvent(new CustomEvent("health", { detail: { status: "unreachable", error: outcome.error } }));
      throw outcome.error;
    }
    this.dispatchEvent(new Event("reachable"));
    const { response } = outcome;
    const data = await jsonOf(response);
    const region = typeof data.region === "string" && data.region ? data.region : null;
    if (!this.router.pinned) this.router.noteHealthRegion(region);
    let status = "unknown";
    if (response.status === 200 && data.status === "healthy") status = "healthy";
    else if (response.status === 503 || data.status === "unhealthy") status = "unhealthy";
    const reason = typeof data.reason === "string" ? data.reason : response.ok ? "" : `HTTP ${response.status}`;
    const detail = { region, status, reason };
    this.dispatchEvent(new CustomEvent("health", { detail }));
    return detail;
  }

  async healthOf(target) {
    try {
      const init = { cache: "no-store", credentials: "omit" };
      return { response: await fetchOrUnreachable("Wild Rydes API", target.base + "health", init, HEALTH_TIMEOUT_MS) };
    } catch (error) {
      return { error };
    }
  }

  ownerPath(route) {
    return `owners/${encodeURIComponent(this.session.owner)}/${route}`;
  }

  // GET /owners/{owner}/tickets: one page of the signed-in owner's tickets, newest first: {tickets, next}.
  async listTickets(next = null) {
    let path = this.ownerPath(`tickets?limit=${this.settings.pageSize}`);
    if (next) path += `&next=${encodeURIComponent(next)}`;
    const data = await this.call("GET", path);
    return {
      tickets: Array.isArray(data.tickets) ? data.tickets : [],
      next: typeof data.next === "string" && data.next ? data.next : null,
    };
  }

  // POST /owners/{owner}/tickets with the client's ticket id: the ticket (201 new, 200 when that id was already
  // stored, e.g. by a retry whose first answer was lost). A 400 throws ApiError with the API's own message.
  async createTicket(id, fields) {
    return this.call("POST", this.ownerPath("tickets"), JSON.stringify({ id, ...fields }));
  }

  // POST /owners/{owner}/claims: moves this identity's tickets from before owners existed to the owner.
  async claimTickets() {
    const data = await this.call("POST", this.ownerPath("claims"));
    return Number.isInteger(data.claimed) ? data.claimed : 0;
  }

  async call(method, path, body) {
    let response = await this.sendAnywhere(method, path, body);
    if (response.status === 403) {
      const first = (await jsonOf(response)).message || "";
      // Which region serves the API now? (Failover changes it.) Then sign again and retry, once.
      await this.health().catch(() => {});
      if (TOKEN_PROBLEM.test(first) && !CLOCK_SKEW.test(first)) await this.session.renew();
      response = await this.sendAnywhere(method, path, body);
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

  // The call where the router sends it; when that region fails, at once to the other region, which then keeps
  // serving the page if it answers. The answer (possibly an error status), or the first UnreachableError.
  async sendAnywhere(method, path, body) {
    const target = this.router.target();
    let outcome = await this.attempt(method, path, body, target);
    if (this.router.canFailOver && regionFailed(outcome)) {
      const other = this.router.alternative(target);
      const second = await this.attempt(method, path, body, other);
      if (!regionFailed(second)) {
        this.router.pin(other.region, target.region);
        outcome = second;
      }
    }
    if (outcome.error) throw outcome.error;
    this.dispatchEvent(new Event("reachable"));
    return outcome.response;
  }

  // One signed request: {response}, or {error} when the API gave no answer. Getting the credentials is not
  // the API's failure: its errors (an expired session, Cognito out of reach) are thrown.
  async attempt(method, path, body, target) {
    const creds = await this.session.credentials();
    try {
      return { response: await this.send(method, path, body, target, creds) };
    } catch (error) {
      if (error instanceof UnreachableError) return { error };
      throw error;
    }
  }

  async send(method, path, body, target, creds) {
    const url = target.base + path;
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
      region: target.region,
    });
    const signed = await signer.sign();
    return fetchOrUnreachable("Wild Rydes API", url, {
      method,
      headers: signed.headers,
      body,
      cache: "no-store",
      credentials: "omit",
    });
  }
}
