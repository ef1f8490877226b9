// The runtime configuration of the Wild Rydes web app: an example.
//
// The real file, web/config.js, is generated at deploy time by `wildrydes build-ui` and `wildrydes replicate`
// (and by the local cloud for demos) and is never committed. index.html loads it as a classic script before the
// app, so it must only set window.WILDRYDES_CONFIG. It holds no secret: every value here is visible to anyone
// who opens the site.
//
// Serve it with "Cache-Control: no-cache" (like index.html) so that a redeploy takes effect at once.
window.WILDRYDES_CONFIG = {
  // The primary region: the first choice for sign-in, and the signing region until GET {apiUrl}health names
  // the region that actually serves the API (after a DNS failover that is the other region).
  region: "eu-west-1",

  // The regions, the primary first: [primary] before `wildrydes replicate`, then both. With one region the page
  // has nowhere to fail over to. Optional: absent means [region].
  regions: ["eu-west-1", "ap-southeast-1"],

  // Each region's Cognito identity pool (authenticated identities only, federated with graph.facebook.com,
  // the same Facebook app). A pool id starts with its region. Sign-in goes through the serving region's pool
  // and through the other one when that region's Cognito gets no answer or answers 5xx.
  identityPools: {
    "eu-west-1": "eu-west-1:00000000-0000-0000-0000-000000000000",
    "ap-southeast-1": "ap-southeast-1:00000000-0000-0000-0000-000000000000",
  },

  // Each region's Cognito Identity endpoint; on the local cloud a local URL. Optional on AWS: a region without
  // one uses https://cognito-identity.<region>.amazonaws.com/.
  cognitoEndpoints: {
    "eu-west-1": "https://cognito-identity.eu-west-1.amazonaws.com/",
    "ap-southeast-1": "https://cognito-identity.ap-southeast-1.amazonaws.com/",
  },

  // Base URL of the ticket API, ending with "/": the app calls {apiUrl}health (unsigned) and
  // {apiUrl}owners/{owner}/tickets and .../claims (SigV4-signed for execute-api). Once replicate made it,
  // https://api.<domain>/ (the Route 53 failover name); else the primary's regional
  // https://<id>.execute-api.<region>.amazonaws.com/<stage>/.
  apiUrl: "https://api.example.com/",

  // Each region's own API URL (ending with "/"): when a call to apiUrl gets no answer or a 5xx, the page sends
  // it at once to the other region's URL, signed for that region, keeps using it, and probes
  // apiUrls[region]health every 5 s to return to apiUrl. Required for every region when there are two.
  apiUrls: {
    "eu-west-1": "https://abc123defg.execute-api.eu-west-1.amazonaws.com/prod/",
    "ap-southeast-1": "https://hij456klmn.execute-api.ap-southeast-1.amazonaws.com/prod/",
  },

  // "facebook": the Facebook JS SDK (loaded from connect.facebook.net, in this mode only) signs the user in;
  // FB.login's authResponse.userID is the owner (the ticket path's {owner}).
  // "local": the local cloud's stand-in for Facebook (facebookStandIn), a name field.
  signIn: "facebook",

  // The Facebook app used to sign in (signIn "facebook" only).
  facebookAppId: "1234567890",

  // signIn "local" only: the local cloud's stand-in for Facebook login, ending with "/". The page posts
  // {"name"} to {facebookStandIn}login and gets {accessToken, userID, name}.
  facebookStandIn: "",

  // Kept for pages from before the regional keys (and read when those are absent): the primary's
  // identity pool and Cognito endpoint.
  identityPoolId: "eu-west-1:00000000-0000-0000-0000-000000000000",
  cognitoEndpoint: "https://cognito-identity.eu-west-1.amazonaws.com/",

  // Optional:
  // facebookApiVersion: "v23.0",  // Graph API version passed to FB.init
  // pageSize: 10,                 // tickets per page of the list (1-100)
};
