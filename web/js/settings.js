// Reads and checks window.WILDRYDES_CONFIG (set by config.js, see config.example.js) once, at start-up.
//
// Two regions once `wildrydes replicate` ran (`regions`, the primary first), one before. A config.js from before
// the regional keys existed (identityPoolId, cognitoEndpoint: the primary's) still works: it reads as one region.

export class ConfigError extends Error {}

const SIGN_IN_MODES = ["facebook", "local"];
const DEFAULT_PAGE_SIZE = 10;
const DEFAULT_FACEBOOK_API_VERSION = "v23.0";
const MAX_REGIONS = 2; // a primary and the region it fails over to

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

function mapping(raw, name, problems) {
  const value = raw[name];
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    problems.push(`${name} (an object keyed by region)`);
    return {};
  }
  return value;
}

function regionList(raw, primary, problems) {
  if (raw.regions === undefined || raw.regions === null) return primary ? [primary] : [];
  const regions = Array.isArray(raw.regions) ? raw.regions.map((r) => (typeof r === "string" ? r.trim() : "")) : [];
  const unique = new Set(regions);
  if (!regions.length || regions.length > MAX_REGIONS || regions.includes("") || unique.size !== regions.length ||
      (primary && regions[0] !== primary)) {
    problems.push(`regions (one or ${MAX_REGIONS} region names, "${primary || "region"}" first)`);
    return primary ? [primary] : [];
  }
  return regions;
}

// Per region: its identity pool (whose id starts with the region, as Cognito's do) and its Cognito endpoint.
function identityPools(raw, regions, primary, problems) {
  const given = mapping(raw, "identityPools", problems);
  const pools = {};
  for (const region of regions) {
    let pool = given[region];
    if (pool === undefined && region === primary) pool = raw.identityPoolId; // the single-region key
    const name = `identityPools["${region}"]`;
    if (typeof pool !== "string" || !pool.trim()) problems.push(name);
    else if (!pool.trim().startsWith(`${region}:`)) problems.push(`${name} (a pool of ${region})`);
    else pools[region] = pool.trim();
  }
  return pools;
}

function cognitoEndpoints(raw, regions, primary, problems) {
  const given = mapping(raw, "cognitoEndpoints", problems);
  const endpoints = {};
  for (const region of regions) {
    let endpoint = given[region];
    if (!endpoint && region === primary) endpoint = raw.cognitoEndpoint; // the single-region key
    // Optional on AWS (null or absent): Cognito Identity's regional endpoint.
    endpoints[region] = endpoint
      ? httpUrl(String(endpoint).trim(), `cognitoEndpoints["${region}"]`, problems)
      : `https://cognito-identity.${region}.amazonaws.com/`;
  }
  return endpoints;
}

// The regional API URLs the page fails over between; needed only with two regions.
function apiUrls(raw, regions, problems) {
  const given = mapping(raw, "apiUrls", problems);
  const urls = {};
  for (const region of regions) {
    const name = `apiUrls["${region}"]`;
    const value = typeof given[region] === "string" ? given[region].trim() : "";
    if (value) urls[region] = httpUrl(value, name, problems);
    else if (regions.length > 1) problems.push(name);
  }
  return urls;
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
  const regions = regionList(raw, region, problems);
  const pools = identityPools(raw, regions, region, problems);
  const apiUrl = httpUrl(text(raw, "apiUrl", problems), "apiUrl", problems);
  const signIn = typeof raw.signIn === "string" ? raw.signIn.trim() : "";
  if (!SIGN_IN_MODES.includes(signIn)) problems.push(`signIn (one of: ${SIGN_IN_MODES.join(", ")})`);
  const facebookAppId = signIn === "facebook" ? text(raw, "facebookAppId", problems) : String(raw.facebookAppId || "");
  const facebookStandIn = signIn === "local"
    ? httpUrl(text(raw, "facebookStandIn", problems), "facebookStandIn", problems)
    : "";
  const endpoints = cognitoEndpoints(raw, regions, region, problems);
  const urls = apiUrls(raw, regions, problems);
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
    regions: Object.freeze(regions),
    identityPools: Object.freeze(pools),
    cognitoEndpoints: Object.freeze(endpoints),
    apiUrl,
    apiUrls: Object.freeze(urls),
    facebookAppId,
    facebookApiVersion,
    facebookStandIn,
    signIn,
    pageSize,
  });
}

// The region a failover moves to from `region`, or null when there is only one.
export function otherRegion(settings, region) {
  return settings.regions.find((candidate) => candidate !== region) || null;
}

// `first`, then every other configured region: the order to try the regions' services in.
export function regionsFrom(settings, first) {
  const start = settings.regions.includes(first) ? first : settings.region;
  return [start, ...settings.regions.filter((region) => region !== start)];
}
