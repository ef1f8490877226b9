// Cognito Identity's JSON 1.1 protocol (unsigned: GetId and GetCredentialsForIdentity are public operations),
// one regional identity pool at a time.
//
// Each region has its own pool and endpoint (config.js: identityPools, cognitoEndpoints). Identity ids are
// per pool and start with the pool's region ("eu-west-1:<uuid>"), so an identity's region says which pool
// issued it: only that pool can renew its credentials.

import { ApiError, fetchOrUnreachable, jsonOf } from "./errors.js";

export const LOGIN_PROVIDER = "graph.facebook.com";

// One call to a region's Cognito endpoint; ApiError (with Cognito's __type) for an error answer.
async function cognitoCall(settings, region, action, payload) {
  const response = await fetchOrUnreachable("sign-in service", settings.cognitoEndpoints[region], {
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

function expirationMs(value) {
  if (typeof value === "number" && Number.isFinite(value)) return value * 1000; // epoch seconds
  const parsed = typeof value === "string" ? Date.parse(value) : NaN;
  return Number.isFinite(parsed) ? parsed : NaN;
}

// GetId: the identity of this login in `region`'s pool.
export async function getIdentityId(settings, region, token) {
  const { IdentityId } = await cognitoCall(settings, region, "GetId", {
    IdentityPoolId: settings.identityPools[region],
    Logins: { [LOGIN_PROVIDER]: token },
  });
  if (typeof IdentityId !== "string" || !IdentityId) throw new ApiError(500, "Cognito returned no identity id.");
  return IdentityId;
}

// GetCredentialsForIdentity in the pool that issued `identityId`: {accessKeyId, secretAccessKey, sessionToken,
// expiration (ms)}. IAM is global, so these sign for either region's API.
export async function getCredentials(settings, region, identityId, token) {
  const data = await cognitoCall(settings, region, "GetCredentialsForIdentity", {
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

// The region of the pool that issued an identity id, when it is one of the configured regions; else null.
export function poolRegionOf(settings, identityId) {
  const region = String(identityId || "").split(":")[0];
  return settings.regions.includes(region) ? region : null;
}
