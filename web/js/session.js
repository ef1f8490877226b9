// The signed-in user: Cognito Identity (GetId, GetCredentialsForIdentity) for a login token, and the temporary
// AWS credentials that sign API calls, renewed before they expire.
//
// Kept in sessionStorage (so a reload of the tab stays signed in, and closing it signs out): the login token,
// the identity id and the display name. The AWS credentials themselves live only in memory, never in storage.
//
// Events: "change" (signed in or out), "expired" (detail: the message to show; already signed out).

import { ApiError, SessionExpiredError, UnreachableError, fetchOrUnreachable, jsonOf } from "./errors.js";

export const LOGIN_PROVIDER = "graph.facebook.com";
const STORAGE_KEY = "wildrydes.session";
const RENEW_BEFORE_MS = 5 * 60 * 1000; // renew five minutes before the credentials expire...
const RENEW_NOW_MS = 60 * 1000; // ...and at once, before a call, when less than a minute is left
const RETRY_RENEW_MS = 15 * 1000; // a renewal that failed for lack of network is tried again after this
// Cognito's answers that mean "this login can't be renewed" rather than "try again later".
const REFUSALS = new Set(["NotAuthorizedException", "ResourceNotFoundException", "InvalidParameterException"]);

// sessionStorage, or memory where the browser refuses storage (some private modes).
function pickStorage() {
  try {
    const probe = "wildrydes.probe";
    window.sessionStorage.setItem(probe, "1");
    window.sessionStorage.removeItem(probe);
    return window.sessionStorage;
  } catch {
    const items = new Map();
    return {
      getItem: (key) => (items.has(key) ? items.get(key) : null),
      setItem: (key, value) => items.set(key, String(value)),
      removeItem: (key) => items.delete(key),
    };
  }
}

function expirationMs(value) {
  if (typeof value === "number" && Number.isFinite(value)) return value * 1000; // epoch seconds
  const parsed = typeof value === "string" ? Date.parse(value) : NaN;
  return Number.isFinite(parsed) ? parsed : NaN;
}

export class Session extends EventTarget {
  constructor(settings, { storage = pickStorage(), now = () => Date.now() } = {}) {
    super();
    this.settings = settings;
    this.storage = storage;
    this.now = now;
    this.login = null; // {token, identityId, name}
    this.creds = null; // {accessKeyId, secretAccessKey, sessionToken, expiration (ms)}
    this.tokenSource = null; // optional async () => fresh login token (Facebook), set by the app
    this.renewing = null;
    this.timer = null;
  }

  get signedIn() {
    return Boolean(this.login && this.creds);
  }

  get name() {
    return this.login ? this.login.name : "";
  }

  get identityId() {
    return this.login ? this.login.identityId : "";
  }

  // Sign in with a login token (Facebook's access token, or "local:<name>" on the local cloud).
  async signIn(token, name) {
    const logins = { [LOGIN_PROVIDER]: token };
    const { IdentityId } = await this.cognito("GetId", { IdentityPoolId: this.settings.identityPoolId, Logins: logins });
    if (typeof IdentityId !== "string" || !IdentityId) throw new ApiError(500, "Cognito returned no identity id.");
    const creds = await this.fetchCredentials(IdentityId, token);
    this.login = { token, identityId: IdentityId, name: name || "Rider" };
    this.creds = creds;
    this.save();
    this.schedule();
    this.dispatchEvent(new Event("change"));
  }

  // Sign in again from sessionStorage after a reload. False when nothing is stored; SessionExpiredError when
  // the stored login is refused; UnreachableError when Cognito can't be reached (the login is kept).
  async restore() {
    let stored;
    try {
      stored = JSON.parse(this.storage.getItem(STORAGE_KEY) || "null");
    } catch {
      stored = null;
    }
    if (!stored || typeof stored.token !== "string" || typeof stored.identityId !== "string") return false;
    this.login = { token: stored.token, identityId: stored.identityId, name: String(stored.name || "Rider") };
    await this.renew();
    this.dispatchEvent(new Event("change"));
    return true;
  }

  // Credentials good for at least another minute, renewed first when needed.
  async credentials() {
    if (!this.login) throw new SessionExpiredError("Please sign in.");
    if (!this.creds || this.creds.expiration - this.now() < RENEW_NOW_MS) await this.renew();
    return this.creds;
  }

  // Get new credentials for the stored login (one renewal at a time). A refusal ends the session.
  renew() {
    if (!this.renewing) {
      this.renewing = this.renewOnce().finally(() => {
        this.renewing = null;
      });
    }
    return this.renewing;
  }

  async renewOnce() {
    if (!this.login) throw new SessionExpiredError("Please sign in.");
    let token = this.login.token;
    if (this.tokenSource) {
      const fresh = await this.tokenSource().catch(() => null);
      if (fresh) token = fresh;
    }
    try {
      this.creds = await this.fetchCredentials(this.login.identityId, token);
    } catch (err) {
      if (err instanceof ApiError && (REFUSALS.has(err.type) || (!err.type && [400, 401, 403].includes(err.status)))) {
        this.expire();
        throw new SessionExpiredError();
      }
      if (this.creds && this.creds.expiration <= this.now()) this.creds = null;
      this.schedule(RETRY_RENEW_MS);
      throw err;
    }
    this.login.token = token;
    this.save();
    this.schedule();
    return this.creds;
  }

  async fetchCredentials(identityId, token) {
    const data = await this.cognito("GetCredentialsForIdentity", {
      IdentityId: identityId,
      Logins: { [LOGIN_PROVIDER]: token },
    });
    const c = data.Credentials || {};
    const expiration = expirationMs(c.Expiration);
    if (!c.AccessKeyId || !c.SecretKey || !Number.isFinite(expiration)) {
      throw new ApiError(500, "Cognito returned incomplete credentials.");
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretKey,
      sessionToken: c.SessionToken || undefined,
      expiration,
    };
  }

  // Renew in the background: five minutes before expiry (half-way for credentials that live under ten).
  schedule(delay) {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.login) return;
    if (delay === undefined) {
      if (!this.creds) return;
      const left = this.creds.expiration - this.now();
      delay = left > 2 * RENEW_BEFORE_MS ? left - RENEW_BEFORE_MS : left / 2;
    }
    this.timer = setTimeout(() => {
      this.renew().catch((err) => {
        if (err instanceof UnreachableError) this.dispatchEvent(new CustomEvent("unreachable", { detail: err }));
      });
    }, Math.max(1000, delay));
  }

  // The session can't go on: forget it and say so.
  expire(message = "Your session has expired. Please sign in again.") {
    const wasSignedIn = Boolean(this.login);
    this.clear();
    if (wasSignedIn) {
      this.dispatchEvent(new CustomEvent("expired", { detail: message }));
      this.dispatchEvent(new Event("change"));
    }
  }

  signOut() {
    const wasSignedIn = Boolean(this.login);
    this.clear();
    if (wasSignedIn) this.dispatchEvent(new Event("change"));
  }

  clear() {
    clearTimeout(this.timer);
    this.timer = null;
    this.login = null;
    this.creds = null;
    this.storage.removeItem(STORAGE_KEY);
  }

  save() {
    if (!this.login) return;
    const { token, identityId, name } = this.login;
    this.storage.setItem(STORAGE_KEY, JSON.stringify({ token, identityId, name }));
  }

  // One call of the Cognito Identity JSON protocol.
  async cognito(action, payload) {
    const response = await fetchOrUnreachable("sign-in service", this.settings.cognitoEndpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityService.${action}`,
      },
      body: JSON.stringify(payload),
      cache: "no-store",
      credentials: "omit",
    });
    const data = await jsonOf(response);
    if (!response.ok) {
      const type = String(data.__type || "").split("#").pop();
      const message = data.message || data.Message || `The sign-in service answered ${response.status}.`;
      throw new ApiError(response.status, message, type);
    }
    return data;
  }
}
