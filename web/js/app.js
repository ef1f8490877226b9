// Wild Rydes Support: the page's entry point. Reads the settings, builds the session (session.js), the region
// router (failover.js) and the API client (api.js), and wires the views to them: sign-in (signin-view.js), the
// ticket form (ticket-form.js), the list (ticket-list.js), the region badge (region-badge.js) and the banner
// (banner.js). Owns what spans the views: which view shows, the session's events, error reporting, claiming
// old tickets after sign-in.

import { Api } from "./api.js";
import { Banner } from "./banner.js";
import { $, $$, testId } from "./dom.js";
import { ApiError, ClockSkewError, SessionExpiredError, UnreachableError } from "./errors.js";
import { RegionRouter } from "./failover.js";
import { RegionBadge } from "./region-badge.js";
import { Session } from "./session.js";
import { ConfigError, loadSettings } from "./settings.js";
import { signInProvider } from "./signin.js";
import { SignInView } from "./signin-view.js";
import { TicketForm } from "./ticket-form.js";
import { TicketList } from "./ticket-list.js";

class App {
  constructor(settings) {
    this.settings = settings;
    this.router = new RegionRouter(settings);
    this.session = new Session(settings, { preferredRegion: () => this.router.servingRegion });
    this.api = new Api(settings, this.session, this.router);
    this.provider = signInProvider(settings);
    if (this.provider.currentToken) this.session.tokenSource = () => this.provider.currentToken();
    this.banner = new Banner(testId("banner"));
    const report = (err) => this.report(err);
    const parts = { settings, api: this.api, router: this.router, session: this.session, banner: this.banner, report };
    this.badge = new RegionBadge(parts);
    this.signInView = new SignInView({ ...parts, provider: this.provider });
    this.list = new TicketList(parts);
    this.form = new TicketForm({ ...parts, list: this.list });
  }

  async start() {
    testId("signout-button").addEventListener("click", () => this.signOut());
    this.signInView.start();
    this.form.start();
    this.list.start();
    this.bindSessionEvents();
    this.api.addEventListener("reachable", () => this.banner.clear("unreachable"));
    this.badge.start();
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState !== "visible" || !this.session.login) return;
      this.session.credentials().catch((err) => this.report(err));
    });
    window.addEventListener("online", () => this.retry());

    this.setView("loading", "Restoring your session…");
    try {
      const restored = await this.session.restore(); // "change" shows the app and loads the list
      if (!restored) this.showSignIn();
    } catch (err) {
      if (err instanceof SessionExpiredError) {
        this.showSignIn();
      } else {
        // Cognito could not be reached: keep the stored login and show the app; the banner offers a retry.
        this.showApp();
        this.report(err);
        this.list.waiting("Your tickets will load once the service is reachable.");
      }
    }
  }

  // --- views -------------------------------------------------------------------------------------------------

  setView(name, loadingText) {
    for (const view of $$("[data-view]")) view.hidden = view.dataset.view !== name;
    if (loadingText) $(".view--loading__text").textContent = loadingText;
  }

  showSignIn() {
    this.setView("signin");
    $(".user").hidden = true;
    this.signInView.prepare();
  }

  showApp() {
    this.setView("app");
    $(".user").hidden = false;
    const name = this.session.name || "Rider";
    testId("user-name").textContent = name;
    $(".user__avatar").textContent = name.trim().charAt(0).toUpperCase() || "R";
  }

  signOut() {
    this.session.signOut(); // "change" shows the sign-in view
    this.form.reset();
    this.banner.clear();
  }

  bindSessionEvents() {
    this.session.addEventListener("change", async () => {
      const login = this.session.login;
      if (login) {
        this.showApp();
        this.list.waiting("Loading tickets…"); // claiming comes first, so that claimed tickets are listed
        await this.claimOldTickets();
        if (this.session.login === login) this.list.loadFirstPage(); // not signed out meanwhile
      } else {
        this.list.clear();
        this.showSignIn();
      }
    });
    this.session.addEventListener("identity", async () => {
      if ((await this.claimOldTickets()) > 0) this.list.loadFirstPage();
    });
    this.session.addEventListener("expired", (event) => {
      this.banner.show("warning", "expired", event.detail, {
        label: "Sign in again",
        run: () => {
          this.banner.clear();
          this.showSignIn();
        },
      });
    });
    this.session.addEventListener("unreachable", (event) => this.report(event.detail));
  }

  // Tickets made before owners existed belong to the Cognito identity that made them: once per session and
  // identity, POST /owners/{owner}/claims moves them to the owner. Quiet: an API from before claims (403/404)
  // is remembered as done; a 5xx or no answer is tried again at the next sign-in or reload. The number claimed.
  async claimOldTickets() {
    const identityId = this.session.identityId;
    if (!identityId || this.session.hasClaimed(identityId)) return 0;
    try {
      const claimed = await this.api.claimTickets();
      this.session.markClaimed(identityId);
      return claimed;
    } catch (err) {
      if (err instanceof ApiError && err.status < 500) this.session.markClaimed(identityId);
      return 0;
    }
  }

  // --- errors --------------------------------------------------------------------------------------------------

  // Tell the user about an error that is not about one form field. Returns a short text for inline use.
  report(err) {
    if (err instanceof UnreachableError) {
      this.banner.show(
        "error",
        "unreachable",
        `${err.message} Check your connection; nothing you typed is lost.`,
        { label: "Try again", run: () => this.retry() },
      );
      return "Not sent: the service can't be reached.";
    }
    if (err instanceof SessionExpiredError) {
      return "Your session has expired. Please sign in again."; // the "expired" event shows the banner
    }
    if (err instanceof ClockSkewError) {
      this.banner.show("error", "clock", err.message);
      return err.message;
    }
    const message = err && err.message ? err.message : "Something went wrong.";
    if (!(err instanceof ApiError)) console.error(err);
    return message;
  }

  retry() {
    this.badge.check();
    if (this.session.login) this.list.loadFirstPage();
  }
}

// --- start ---------------------------------------------------------------------------------------------------

function fatal(message) {
  for (const view of $$("[data-view]")) view.hidden = view.dataset.view !== "loading";
  $(".spinner").hidden = true;
  $(".view--loading__text").textContent = "Wild Rydes Support can't start: see the message above.";
  testId("region-refresh").hidden = true;
  const banner = testId("banner");
  banner.dataset.kind = "error";
  $(".banner__text", banner).textContent = message;
  banner.hidden = false;
  testId("region").textContent = "unknown";
}

function main() {
  let settings;
  try {
    settings = loadSettings();
  } catch (err) {
    fatal(err instanceof ConfigError ? err.message : `The app could not start: ${err.message}`);
    return;
  }
  if (!window.crypto || !window.crypto.subtle) {
    fatal("This page must be opened over HTTPS (or on localhost): the browser only signs requests in a secure page.");
    return;
  }
  new App(settings)
    .start().catch((err) => fatal(`The app could not start: ${err.message}`));
}

main();
