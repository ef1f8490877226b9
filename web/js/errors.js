// The errors the app tells apart: each one gets its own message for the user.

// A network failure: fetch threw (no connection, DNS, refused, a CORS-less answer, or our timeout).
export class UnreachableError extends Error {
  constructor(what, url, cause) {
    super(`Can't reach the ${what} (${hostOf(url)}).`);
    this.name = "UnreachableError";
    this.what = what;
    this.url = url;
    this.cause = cause;
  }
}

// The sign-in can't be renewed: the login token was refused, or the credentials ran out. Sign in again.
export class SessionExpiredError extends Error {
  constructor(message = "Your session has expired. Please sign in again.") {
    super(message);
    this.name = "SessionExpiredError";
  }
}

// The API refused a signature for its time: the device clock is off by more than five minutes.
export class ClockSkewError extends Error {
  constructor(message) {
    super(
      "The API refused the request's time stamp: this device's clock seems to be wrong. " +
        "Set the clock automatically and try again." + (message ? ` (${message})` : ""),
    );
    this.name = "ClockSkewError";
  }
}

// An answer from the API or from Cognito that is not a success; `message` is the service's own text.
export class ApiError extends Error {
  constructor(status, message, type = "") {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.type = type;
  }
}

export function hostOf(url) {
  try {
    return new URL(url).host;
  } catch {
    return String(url);
  }
}

// fetch with a time limit; any failure to get an answer becomes an UnreachableError.
export async function fetchOrUnreachable(what, url, init = {}, timeoutMs = 20000) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await fetch(url, { ...init, signal: controller.signal });
  } catch (err) {
    throw new UnreachableError(what, url, err);
  } finally {
    clearTimeout(timer);
  }
}

// The body of an answer as JSON, or {} when it has none or is not JSON.
export async function jsonOf(response) {
  try {
    const text = await response.text();
    const data = text ? JSON.parse(text) : {};
    return data && typeof data === "object" ? data : {};
  } catch {
    return {};
  }
}

// Does this failure say "that region's service is out" (no answer, or a 5xx), so that the other region may serve?
export function isServiceDown(err) {
  return err instanceof UnreachableError || (err instanceof ApiError && err.status >= 500);
}
