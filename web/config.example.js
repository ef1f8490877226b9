// The runtime configuration of the Wild Rydes web app: an example.
//
// The real file, web/config.js, is generated at deploy time by `wildrydes build-ui` (and by the local cloud for
// demos) and is never committed. index.html loads it as a classic script before the app, so it must only set
// window.WILDRYDES_CONFIG. It holds no secret: every value here is visible to anyone who opens the site.
//
// Serve it with "Cache-Control: no-cache" (like index.html) so that a redeploy takes effect at once.
window.WILDRYDES_CONFIG = {
  // Region of the Cognito identity pool; also the signing region until GET {apiUrl}health names the region
  // that actually serves the API (after a failover that is the other region).
  region: "eu-west-1",

  // The Cognito identity pool (authenticated identities only, federated with graph.facebook.com).
  identityPoolId: "eu-west-1:00000000-0000-0000-0000-000000000000",

  // Base URL of the ticket API, ending with "/": the app calls {apiUrl}health (unsigned) and {apiUrl}ticket
  // (SigV4-signed for execute-api). On AWS this is https://api.<domain>/ (the Route 53 failover name) or a
  // regional https://<id>.execute-api.<region>.amazonaws.com/<stage>/.
  apiUrl: "https://abc123defg.execute-api.eu-west-1.amazonaws.com/prod/",

  // The Facebook app used to sign in (signIn "facebook" only).
  facebookAppId: "1234567890",

  // The Cognito Identity endpoint; on the local cloud a local URL. Optional on AWS: it defaults to
  // https://cognito-identity.<region>.amazonaws.com/.
  cognitoEndpoint: "https://cognito-identity.eu-west-1.amazonaws.com/",

  // "facebook": the Facebook JS SDK (loaded from connect.facebook.net, in this mode only) signs the user in.
  // "local": the local cloud's stand-in for Facebook, a name field; the login token is "local:" + name.
  signIn: "facebook",

  // Optional:
  // facebookApiVersion: "v23.0",  // Graph API version passed to FB.init
  // pageSize: 10,                 // tickets per page of the list (1-100)
};
