// Reads and checks window.WILDRYDES_CONFIG (set by config.js, see config.example.js) once, at start-up.

export class ConfigError extends Error {}

const SIGN_IN_MODES = ["facebook", "local"];
const DEFAULT_PAGE_SIZE = 10;
const DEFAULT_FACEBOOK_API_VERSION = "v23.0";

function text(raw, name, problems) {
  const value = raw[name];
  if (typeof value !== "string" || !value.trim()) {
    problems.push(name);
    return "";
  }
  return value.trim();
}

function httpUrl(value, name, problems) {
  if (!value) return "";
  let url;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${name} (not a URL)`);
    return "";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    problems.push(`${name} (must be http or https)`);
    return "";
  }
  return url.href.endsWith("/") ? url.href : url.href + "/";
}

// The checked configuration; throws ConfigError naming every missing or bad value.
export function loadSettings(raw = window.WILDRYDES_CONFIG) {
  if (!raw || typeof raw !== "object") {
    throw new ConfigError(
      "This site has no configuration: config.js is missing. It is generated when the site is deployed " +
        "(wildrydes build-ui) or started on the local cloud.",
    );
  }
  const problems = [];
  const region = text(raw, "region", problems);
  const identityPoolId = text(raw, "identityPoolId", problems);
  const apiUrl = httpUrl(text(raw, "apiUrl", problems), "apiUrl", problems);
  const signIn = typeof raw.signIn === "string" ? raw.signIn.trim() : "";
  if (!SIGN_IN_MODES.includes(signIn)) problems.push(`signIn (one of: ${SIGN_IN_MODES.join(", ")})`);
  const facebookAppId = signIn === "facebook" ? text(raw, "facebookAppId", problems) : String(raw.facebookAppId || "");
  // Optional on AWS (null or absent): Cognito Identity's regional endpoint.
  const cognitoEndpoint = raw.cognitoEndpoint
    ? httpUrl(String(raw.cognitoEndpoint).trim(), "cognitoEndpoint", problems)
    : `https://cognito-identity.${region}.amazonaws.com/`;
  const pageSize = Number.isInteger(raw.pageSize) && raw.pageSize >= 1 && raw.pageSize <= 100
    ? raw.pageSize
    : DEFAULT_PAGE_SIZE;
  const facebookApiVersion = typeof raw.facebookApiVersion === "string" && /^v\d+\.\d+$/.test(raw.facebookApiVersion)
    ? raw.facebookApiVersion
    : DEFAULT_FACEBOOK_API_VERSION;
  if (problems.length) {
    throw new ConfigError(`The site configuration (config.js) is incomplete: ${problems.join(", ")}.`);
  }
  return Object.freeze({
    region,
    identityPoolId,
    apiUrl,
    facebookAppId,
    facebookApiVersion,
    cognitoEndpoint,
    signIn,
    pageSize,
  });
}
