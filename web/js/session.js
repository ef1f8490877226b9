// The signed-in user: their owner (the Facebook user id that names their ticket path), the Cognito identity a
// login token maps to, and the temporary AWS credentials that sign API calls, renewed before they expire.
//
// Two regions, two identity pools (cognito.js). Sign-in goes through the pool of the region serving the page
// (`preferredRegion`, initially config.region); when that region's Cognito is out (no answer or a 5xx) it goes
// through the other pool. Renewals go to the pool that issued the identity; when that region's Cognito is out,
// the same login token signs in again through the other pool (a new identity id, the same owner) rather than
// ending the session. The owner never changes with the region: Facebook user ids are per app, not per pool.
//
// Kept in sessionStorage (so a reload of the tab stays signed in, and closing it signs out): the login token,
// the identity id, the owner, the display name and the identities whose old tickets were claimed. The AWS
// credentials themselves live only in memory, never in storage.
//
// Events: "change" (signed in or out), "identity" (a renewal moved to the other pool: a new identity id),
// "expired" (detail: the message to show; already signed out), "unreachable" (detail: the error of a background
// renewal that got no answer).

import { getCredentials, getIdentityId, poolRegionOf } from "./cognito.js";
import { ApiError, SessionExpiredError, UnreachableError, isServiceDown } from "./errors.js";
import { regionsFrom } from "./settings.js";

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

function isRefusal(err) {
  return err instanceof ApiError && (REFUSALS.has(err.type) || (!err.type && [400, 401, 403].includes(err.status)));
}

const nonEmpty = (value) => typeof value === "string" && value !== "";

export class Session extends EventTarget {
  constructor(settings, { storage = pickStorage(), now = () => Date.now(), preferredRegion = null } = {}) {
    super();
    this.settings = settings;
    this.storage = storage;
    this.now = now;
    this.preferredRegion = preferredRegion || (() => settings.region);
    this.login = null; // {token, identityId, owner, name, claimed: [identity ids]}
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

  get owner() {
    return this.login ? this.login.owner : "";
  }

  get identityId() {
    return this.login ? this.login.identityId : "";
  }

  // Sign in with a login: {token (Facebook's access token, or the local stand-in's), owner (the user id), name}.
  async signIn({ token, owner, name }) {
    if (!nonEmpty(token) || !nonEmpty(owner)) throw new ApiError(500, "The sign-in gave no user id.");
    const { identityId, creds } = await this.signInThrough(regionsFrom(this.settings, this.preferredRegion()), token);
    this.login = { token, identityId, owner, name: name || "Rider", claimed: [] };
    this.creds = creds;
    this.save();
    this.schedule();
    this.dispatchEvent(new Event("change"));
  }

  // GetId + GetCredentialsForIdentity through the first of `regions` whose Cognito answers.
  async signInThrough(regions, token) {
    let outage = null;
    for (const region of regions) {
      try {
        const identityId = await getIdentityId(this.settings, region, token);
        return { identityId, creds: await getCredentials(this.settings, region, identityId, token) };
      } catch (err) {
        if (!isServiceDown(err)) throw err;
        outage = outage || err; // the first region's failure is the one to report if none answers
      }
    }
    throw outage;
  }

  // Sign in again from sessionStorage after a reload. False when nothing is stored; SessionExpiredError when
  // the stored login is refused; UnreachableError when no Cognito can be reached (the login is kept).
  async restore() {
    let stored;
    try {
      stored = JSON.parse(this.storage.getItem(STORAGE_KEY) || "null");
    } catch {
      stored = null;
    }
    if (!stored || !nonEmpty(stored.token) || !nonEmpty(stored.identityId) || !nonEmpty(stored.owner)) return false;
    this.login = {
      token: stored.token,
      identityId: stored.identityId,
      owner: stored.owner,
      name: String(stored.name || "Rider"),
      claimed: Array.isArray(stored.claimed) ? stored.claimed.filter(nonEmpty) : [],
    };
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
      const renewed = await this.renewThroughAnyPool(token);
      if (!this.login) throw new SessionExpiredError("Please sign in."); // signed out meanwhile
      this.creds = renewed.creds;
      if (renewed.identityId !== this.login.identityId) {
        this.login.identityId = renewed.identityId;
        this.dispatchEvent(new Event("identity"));
      }
    } catch (err) {
      if (isRefusal(err)) {
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

  // {identityId, creds}: from the issuing pool, or (that region's Cognito being out) a new sign-in elsewhere.
  async renewThroughAnyPool(token) {
    const { identityId } = this.login;
    const issuer = poolRegionOf(this.settings, identityId);
    if (!issuer) return this.signInThrough(regionsFrom(this.settings, this.preferredRegion()), token);
    try {
      return { identityId, creds: await getCredentials(this.settings, issuer, identityId, token) };
    } catch (err) {
      const others = regionsFrom(this.settings, issuer).slice(1);
      if (!isServiceDown(err) || !others.length) throw err;
      try {
        return await this.signInThrough(others, token);
      } catch (otherErr) {
        throw isServiceDown(otherErr) ? err : otherErr;
      }
    }
  }

  // Were this identity's tickets from before owners existed claimed in this session? (See app.js.)
  hasClaimed(identityId) {
    return Boolean(this.login && this.login.claimed.includes(identityId));
  }

  markClaimed(identityId) {
    if (!this.login || this.login.claimed.includes(identityId)) return;
    this.login.claimed.push(identityId);
    this.save();
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
    const { token, identityId, owner, name, claimed } = this.login;
    this.storage.setItem(STORAGE_KEY, JSON.stringify({ token, identityId, owner, name, claimed }));
  }
}
