// The two ways to get a login token for Cognito:
// - "facebook": the Facebook JS SDK (loaded from connect.facebook.net in this mode only), FB.login;
// - "local": the local cloud's stand-in for Facebook: the token is "local:" + the name the user types.

const FACEBOOK_SDK = "https://connect.facebook.net/en_US/sdk.js";

export class LocalSignIn {
  constructor() {
    this.mode = "local";
    this.ready = Promise.resolve();
  }

  // {token, name} for the typed name.
  login(name) {
    const clean = String(name || "").trim();
    return Promise.resolve({ token: `local:${clean}`, name: clean });
  }
}

export class FacebookSignIn {
  constructor(settings) {
    this.mode = "facebook";
    this.settings = settings;
    this.ready = loadFacebookSdk(settings.facebookAppId, settings.facebookApiVersion);
  }

  // FB.login opens a pop-up, which browsers allow only from a click: call this straight from the click handler.
  login() {
    const FB = window.FB;
    if (!FB) return Promise.reject(new Error("Facebook sign-in is still loading; try again in a moment."));
    return new Promise((resolve, reject) => {
      FB.login(
        (response) => {
          const auth = response && response.authResponse;
          if (!auth || !auth.accessToken) {
            reject(new Error("Facebook sign-in was cancelled or refused."));
            return;
          }
          FB.api("/me", { fields: "name" }, (me) => {
            const name = me && !me.error && typeof me.name === "string" ? me.name : "Facebook user";
            resolve({ token: auth.accessToken, name });
          });
        },
        { scope: "public_profile" },
      );
    });
  }

  // The current Facebook access token (Facebook renews it while the user stays logged in there), or null.
  currentToken() {
    const FB = window.FB;
    if (!FB) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), 5000);
      FB.getLoginStatus((response) => {
        clearTimeout(timer);
        const auth = response && response.status === "connected" && response.authResponse;
        resolve(auth && auth.accessToken ? auth.accessToken : null);
      });
    });
  }
}

function loadFacebookSdk(appId, version) {
  if (window.FB) return Promise.resolve(window.FB);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("Facebook sign-in did not load (connect.facebook.net timed out).")), 20000);
    window.fbAsyncInit = () => {
      clearTimeout(timer);
      window.FB.init({ appId, version, cookie: false, xfbml: false, status: false });
      resolve(window.FB);
    };
    const script = document.createElement("script");
    script.src = FACEBOOK_SDK;
    script.async = true;
    script.crossOrigin = "anonymous";
    script.onerror = () => {
      clearTimeout(timer);
      reject(new Error("Facebook sign-in could not be loaded from connect.facebook.net (blocked or offline?)."));
    };
    document.head.appendChild(script);
  });
}

export function signInProvider(settings) {
  return settings.signIn === "facebook" ? new FacebookSignIn(settings) : new LocalSignIn();
}
