// The two ways to sign in with Facebook, each giving a login {token, owner, name} for Cognito:
// - "facebook": the Facebook JS SDK (loaded from connect.facebook.net in this mode only), FB.login; the owner is
//   authResponse.userID, the app-scoped Facebook user id (the `sub` claim Cognito maps to the `owner` tag);
// - "local": the local cloud's stand-in for Facebook: POST {facebookStandIn}login {"name"} answers
//   {accessToken, userID, name}, the same user id for the same name.

import { ApiError, fetchOrUnreachable, jsonOf } from "./errors.js";

const FACEBOOK_SDK = "https://connect.facebook.net/en_US/sdk.js";

export class LocalSignIn {
  constructor(settings) {
    this.mode = "local";
    this.settings = settings;
    this.ready = Promise.resolve();
  }

  // The stand-in's login for the typed name.
  async login(name) {
    const response = await fetchOrUnreachable("sign-in service", this.settings.facebookStandIn + "login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: String(name || "").trim() }),
      cache: "no-store",
      credentials: "omit",
    });
    const data = await jsonOf(response);
    if (!response.ok) {
      // Facebook's error shape: {"error": {"message", "type", "code"}}.
      const message = data.error && typeof data.error.message === "string" ? data.error.message : "";
      throw new ApiError(response.status, message || `The sign-in stand-in answered ${response.status}.`);
    }
    if (typeof data.accessToken !== "string" || typeof data.userID !== "string") {
      throw new ApiError(500, "The sign-in stand-in gave no access token or user id.");
    }
    return { token: data.accessToken, owner: data.userID, name: typeof data.name === "string" ? data.name : name };
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
          if (!auth || !auth.accessToken || !auth.userID) {
            reject(new Error("Facebook sign-in was cancelled or refused."));
            return;
          }
          FB.api("/me", { fields: "name" }, (me) => {
            const name = me && !me.error && typeof me.name === "string" ? me.name : "Facebook user";
            resolve({ token: auth.accessToken, owner: String(auth.userID), name });
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
  return settings.signIn === "facebook" ? new FacebookSignIn(settings) : new LocalSignIn(settings);
}
