// The sign-in view: the Facebook button (signIn "facebook") or the local stand-in's name field ("local"), and
// what a failed sign-in tells the user. The session (session.js) picks the region's identity pool.

import { $, $$, testId } from "./dom.js";
import { ApiError, UnreachableError } from "./errors.js";

export class SignInView {
  constructor({ provider, session, banner, report }) {
    this.provider = provider;
    this.session = session;
    this.banner = banner;
    this.report = report;
    this.facebookReady = false;
    this.form = $(".signin-form");
    this.button = testId("signin-button");
    this.nameInput = testId("signin-name");
    this.error = $("#signin-error");
  }

  start() {
    for (const part of $$("[data-mode]", this.form)) {
      if (part.dataset.mode !== this.provider.mode) part.remove();
    }
    if (this.provider.mode === "facebook") {
      this.nameInput = null;
      this.button.textContent = "Continue with Facebook";
      this.button.classList.add("button--facebook");
      this.button.disabled = true;
      this.provider.ready.then(
        () => {
          this.facebookReady = true;
          if (!this.session.login) this.button.disabled = false;
        },
        (err) => {
          this.error.textContent = err.message;
          this.banner.show("error", "facebook", err.message, { label: "Reload", run: () => location.reload() });
        },
      );
    }
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.signIn();
    });
  }

  // Called when the sign-in view is shown.
  prepare() {
    this.button.disabled = this.provider.mode === "facebook" && !this.facebookReady;
    if (this.nameInput) this.nameInput.focus();
  }

  async signIn() {
    this.error.textContent = "";
    let login;
    if (this.provider.mode === "local") {
      const name = this.nameInput.value.trim();
      if (!name) {
        this.error.textContent = "Enter your name to sign in.";
        this.nameInput.setAttribute("aria-invalid", "true");
        this.nameInput.focus();
        return;
      }
      this.nameInput.removeAttribute("aria-invalid");
      login = this.provider.login(name);
    } else {
      login = this.provider.login(); // straight from the click: FB.login opens a pop-up
    }
    const label = this.button.textContent;
    this.button.disabled = true;
    this.button.textContent = "Signing in…";
    try {
      await this.session.signIn(await login); // "change" shows the app
      this.banner.clear("expired", "unreachable", "signin");
      if (this.nameInput) this.nameInput.value = "";
    } catch (err) {
      if (err instanceof UnreachableError) {
        this.error.textContent = "The sign-in service can't be reached right now. Please try again.";
        this.report(err);
      } else if (err instanceof ApiError) {
        this.error.textContent = `Sign-in was refused: ${err.message}`;
      } else {
        this.error.textContent = err.message || "Sign-in failed.";
      }
    } finally {
      this.button.disabled = false;
      this.button.textContent = label;
    }
  }
}
