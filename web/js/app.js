// Wild Rydes Support: the page. Wires the sign-in, the ticket form, the ticket list, the region indicator and
// the banner to the session (session.js) and the API client (api.js).
//
// User content is only ever put in the page with textContent / attributes, never as HTML.

import { Api } from "./api.js";
import { ApiError, ClockSkewError, SessionExpiredError, UnreachableError, hostOf } from "./errors.js";
import { Session } from "./session.js";
import { ConfigError, loadSettings } from "./settings.js";
import { signInProvider } from "./signin.js";

const HEALTH_EVERY_MS = 60 * 1000;
const SUCCESS_VISIBLE_MS = 5000;
const PRIORITIES = ["low", "medium", "high"];
const STATUSES = ["open", "assigned", "closed"];

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
const testId = (id) => $(`[data-testid="${id}"]`);

// --- the banner: one message at a time, with a topic so that a success can clear "its" message --------------

class Banner {
  constructor(element) {
    this.element = element;
    this.text = $(".banner__text", element);
    this.action = $(".banner__action", element);
    this.topic = "";
    this.onAction = null;
    this.action.addEventListener("click", () => this.onAction && this.onAction());
    $(".banner__close", element).addEventListener("click", () => this.clear());
  }

  show(kind, topic, message, action = null) {
    this.topic = topic;
    this.element.dataset.kind = kind;
    this.element.dataset.topic = topic;
    this.text.textContent = message;
    this.onAction = action ? action.run : null;
    this.action.hidden = !action;
    this.action.textContent = action ? action.label : "";
    this.element.hidden = false;
  }

  // Clear the message; with topics, only when the message shown is about one of them.
  clear(...topics) {
    if (topics.length && !topics.includes(this.topic)) return;
    this.topic = "";
    this.element.hidden = true;
    this.element.dataset.kind = "";
    this.element.dataset.topic = "";
    this.text.textContent = "";
    this.onAction = null;
  }
}

// --- the app -------------------------------------------------------------------------------------------------

class App {
  constructor(settings) {
    this.settings = settings;
    this.session = new Session(settings);
    this.api = new Api(settings, this.session);
    this.provider = signInProvider(settings);
    if (this.provider.currentToken) this.session.tokenSource = () => this.provider.currentToken();
    this.banner = new Banner(testId("banner"));
    this.next = null;
    this.ticketIds = new Set();
    this.listGeneration = 0;
    this.successTimer = null;
  }

  async start() {
    this.bindHeader();
    this.bindSignIn();
    this.bindTicketForm();
    this.bindTicketList();
    this.bindSessionEvents();
    this.bindApiEvents();
    this.checkHealth();
    setInterval(() => document.visibilityState === "visible" && this.checkHealth(), HEALTH_EVERY_MS);
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
        $(".list-status").textContent = "Your tickets will load once the service is reachable.";
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
    const button = testId("signin-button");
    button.disabled = this.provider.mode === "facebook" && !this.facebookReady;
    const name = testId("signin-name");
    if (name) name.focus();
  }

  showApp() {
    this.setView("app");
    $(".user").hidden = false;
    const name = this.session.name || "Rider";
    testId("user-name").textContent = name;
    $(".user__avatar").textContent = name.trim().charAt(0).toUpperCase() || "R";
  }

  // --- header: region and sign-out -------------------------------------------------------------------------

  bindHeader() {
    testId("region-refresh").addEventListener("click", () => this.checkHealth());
    testId("signout-button").addEventListener("click", () => this.signOut());
  }

  async checkHealth() {
    const pill = $(".region-pill");
    pill.classList.add("is-checking");
    testId("region-refresh").disabled = true;
    try {
      await this.api.health(); // the "health" event renders the answer
    } catch (err) {
      this.report(err); // an unreachable API gets the banner, whoever asked
    } finally {
      pill.classList.remove("is-checking");
      testId("region-refresh").disabled = false;
    }
  }

  renderHealth({ region, status, reason }) {
    const pill = $(".region-pill");
    const value = testId("region");
    pill.dataset.state = status;
    value.dataset.state = status;
    value.textContent = "";
    const name = document.createElement("span");
    name.className = "region-pill__name";
    name.textContent = region || (status === "unreachable" ? "unreachable" : "unknown");
    value.append(name);
    if (status === "unhealthy") {
      const state = document.createElement("span");
      state.className = "region-pill__state";
      state.textContent = " · unhealthy";
      value.append(state);
    }
    if (status === "healthy") {
      pill.title = `The ticket API is served from ${region} and is healthy.`;
      this.banner.clear("health");
    } else if (status === "unhealthy") {
      pill.title = `The API in ${region || "this region"} reports it is unhealthy${reason ? `: ${reason}` : ""}.`;
      this.banner.show(
        "warning",
        "health",
        `The ticket API in ${region || "its region"} reports it is unhealthy${reason ? ` (${reason})` : ""}. ` +
          "If it stays that way, traffic fails over to the other region.",
        { label: "Check again", run: () => this.checkHealth() },
      );
    } else if (status === "unreachable") {
      pill.title = `The API at ${hostOf(this.settings.apiUrl)} can't be reached.`;
    } else {
      pill.title = "The API did not say which region serves it.";
    }
  }

  // --- sign-in -------------------------------------------------------------------------------------------------

  bindSignIn() {
    const form = $(".signin-form");
    const button = testId("signin-button");
    for (const part of $$("[data-mode]", form)) {
      if (part.dataset.mode !== this.provider.mode) part.remove();
    }
    if (this.provider.mode === "facebook") {
      button.textContent = "Continue with Facebook";
      button.classList.add("button--facebook");
      button.disabled = true;
      this.provider.ready.then(
        () => {
          this.facebookReady = true;
          if (!this.session.login) button.disabled = false;
        },
        (err) => {
          $("#signin-error").textContent = err.message;
          this.banner.show("error", "facebook", err.message, { label: "Reload", run: () => location.reload() });
        },
      );
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.signIn();
    });
  }

  async signIn() {
    const error = $("#signin-error");
    const button = testId("signin-button");
    const nameInput = testId("signin-name");
    error.textContent = "";
    let login;
    if (this.provider.mode === "local") {
      const name = nameInput.value.trim();
      if (!name) {
        error.textContent = "Enter your name to sign in.";
        nameInput.setAttribute("aria-invalid", "true");
        nameInput.focus();
        return;
      }
      nameInput.removeAttribute("aria-invalid");
      login = this.provider.login(name);
    } else {
      login = this.provider.login(); // straight from the click: FB.login opens a pop-up
    }
    const label = button.textContent;
    button.disabled = true;
    button.textContent = "Signing in…";
    try {
      const { token, name } = await login;
      await this.session.signIn(token, name); // "change" shows the app
      this.banner.clear("expired", "unreachable", "signin");
      if (nameInput) nameInput.value = "";
    } catch (err) {
      if (err instanceof UnreachableError) {
        error.textContent = "The sign-in service can't be reached right now. Please try again.";
        this.report(err);
      } else if (err instanceof ApiError) {
        error.textContent = `Sign-in was refused: ${err.message}`;
      } else {
        error.textContent = err.message || "Sign-in failed.";
      }
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  }

  signOut() {
    this.session.signOut(); // "change" shows the sign-in view
    this.resetTicketForm();
    this.banner.clear();
  }

  bindSessionEvents() {
    this.session.addEventListener("change", () => {
      if (this.session.login) {
        this.showApp();
        this.loadFirstPage();
      } else {
        this.clearList();
        this.showSignIn();
      }
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

  bindApiEvents() {
    this.api.addEventListener("health", (event) => this.renderHealth(event.detail));
    this.api.addEventListener("reachable", () => this.banner.clear("unreachable"));
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
    this.checkHealth();
    if (this.session.login) this.loadFirstPage();
  }

  // --- the ticket form -------------------------------------------------------------------------------------

  bindTicketForm() {
    const form = $(".ticket-form");
    const description = testId("ticket-description");
    const count = () => {
      const length = description.value.trim().length;
      $(".description-count").textContent = String(length);
      $("#description-hint").classList.toggle("is-warning", length > 0 && (length < 10 || length > 2000));
    };
    description.addEventListener("input", count);
    for (const input of [description, testId("ticket-assigned")]) {
      input.addEventListener("input", () => {
        input.removeAttribute("aria-invalid");
        $(`#${input.name}-error`).textContent = "";
      });
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submitTicket();
    });
  }

  // Client-side checks only catch what is obviously missing; the API enforces the lengths and the allowed
  // values, and its 400 message is shown in the form's error area.
  async submitTicket() {
    const fields = {
      description: testId("ticket-description").value.trim(),
      assigned: testId("ticket-assigned").value.trim(),
      priority: testId("ticket-priority").value,
      status: testId("ticket-status").value,
    };
    this.clearFormMessages();
    const missing = [];
    if (!fields.description) missing.push(["description", "Describe what went wrong."]);
    if (!fields.assigned) missing.push(["assigned", "Say who should handle this ticket."]);
    if (missing.length) {
      for (const [name, message] of missing) this.fieldError(name, message);
      testId(`ticket-${missing[0][0]}`).focus();
      return;
    }
    const submit = testId("ticket-submit");
    submit.disabled = true;
    submit.textContent = "Submitting…";
    try {
      const ticket = await this.api.createTicket(fields);
      this.addTicket(ticket, { atTop: true, highlight: true });
      testId("ticket-description").value = "";
      $(".description-count").textContent = "0";
      this.showSuccess("Ticket created. It's at the top of your list.");
    } catch (err) {
      const text = err instanceof ApiError ? err.message : this.report(err);
      if (err instanceof ApiError) {
        const field = /'(description|assigned|priority|status)'/.exec(err.message);
        if (field) testId(`ticket-${field[1]}`).setAttribute("aria-invalid", "true");
      }
      if (!(err instanceof SessionExpiredError)) this.formError(text);
    } finally {
      submit.disabled = false;
      submit.textContent = "Submit ticket";
    }
  }

  fieldError(name, message) {
    testId(`ticket-${name}`).setAttribute("aria-invalid", "true");
    $(`#${name}-error`).textContent = message;
  }

  formError(message) {
    const element = testId("form-error");
    element.textContent = message;
    element.hidden = false;
  }

  showSuccess(message) {
    const element = $(".form-success");
    element.textContent = message;
    element.hidden = false;
    clearTimeout(this.successTimer);
    this.successTimer = setTimeout(() => {
      element.hidden = true;
    }, SUCCESS_VISIBLE_MS);
  }

  clearFormMessages() {
    const error = testId("form-error");
    error.hidden = true;
    error.textContent = "";
    $(".form-success").hidden = true;
    for (const name of ["description", "assigned"]) $(`#${name}-error`).textContent = "";
    for (const input of $$(".ticket-form [aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  resetTicketForm() {
    $(".ticket-form").reset();
    $(".description-count").textContent = "0";
    $("#description-hint").classList.remove("is-warning");
    this.clearFormMessages();
  }

  // --- the ticket list ---------------------------------------------------------------------------------------

  bindTicketList() {
    testId("load-more").addEventListener("click", () => this.loadMore());
    $(".list-refresh").addEventListener("click", () => this.loadFirstPage());
  }

  clearList() {
    this.listGeneration += 1;
    testId("ticket-list").replaceChildren();
    this.ticketIds.clear();
    this.next = null;
    testId("load-more").hidden = true;
    $(".empty").hidden = true;
    $(".list-status").textContent = "";
    $(".ticket-count").textContent = "";
  }

  async loadFirstPage() {
    const generation = ++this.listGeneration;
    const status = $(".list-status");
    status.classList.remove("is-error");
    status.textContent = "Loading tickets…";
    try {
      const page = await this.api.listTickets();
      if (generation !== this.listGeneration) return; // signed out or reloaded meanwhile
      testId("ticket-list").replaceChildren();
      this.ticketIds.clear();
      for (const ticket of page.tickets) this.addTicket(ticket);
      this.setNext(page.next);
      status.textContent = "";
    } catch (err) {
      if (generation !== this.listGeneration) return;
      status.classList.add("is-error");
      status.textContent = `Couldn't load tickets: ${this.report(err)}`;
    }
    this.updateListState();
  }

  async loadMore() {
    const button = testId("load-more");
    if (!this.next) return;
    const generation = this.listGeneration;
    const status = $(".list-status");
    button.disabled = true;
    button.textContent = "Loading…";
    try {
      const page = await this.api.listTickets(this.next);
      if (generation !== this.listGeneration) return;
      for (const ticket of page.tickets) this.addTicket(ticket);
      this.setNext(page.next);
      status.classList.remove("is-error");
      status.textContent = "";
    } catch (err) {
      if (generation !== this.listGeneration) return;
      status.classList.add("is-error");
      status.textContent = `Couldn't load more tickets: ${this.report(err)}`;
    } finally {
      button.disabled = false;
      button.textContent = "Load more";
      this.updateListState();
    }
  }

  setNext(next) {
    this.next = next;
    testId("load-more").hidden = !next;
  }

  updateListState() {
    const count = this.ticketIds.size;
    $(".empty").hidden = count > 0 || $(".list-status").classList.contains("is-error");
    $(".ticket-count").textContent = count ? `· ${count}${this.next ? "+" : ""}` : "";
  }

  addTicket(ticket, { atTop = false, highlight = false } = {}) {
    if (!ticket || typeof ticket !== "object") return;
    const id = typeof ticket.id === "string" ? ticket.id : "";
    if (id && this.ticketIds.has(id)) return;
    if (id) this.ticketIds.add(id);
    const item = this.renderTicket(ticket);
    const list = testId("ticket-list");
    if (atTop) list.prepend(item);
    else list.append(item);
    if (highlight) {
      item.classList.add("is-new");
      setTimeout(() => item.classList.remove("is-new"), 2500);
    }
    this.updateListState();
  }

  renderTicket(ticket) {
    const item = $("#ticket-template").content.firstElementChild.cloneNode(true);
    const text = (value) => (typeof value === "string" ? value : value == null ? "" : String(value));
    if (ticket.id) item.dataset.id = text(ticket.id);
    $(".ticket__description", item).textContent = text(ticket.description);

    const priority = PRIORITIES.includes(ticket.priority) ? ticket.priority : "other";
    const priorityBadge = $(".badge--priority", item);
    priorityBadge.classList.add(`badge--priority-${priority}`);
    priorityBadge.textContent = `${text(ticket.priority) || "no"} priority`;

    const status = STATUSES.includes(ticket.status) ? ticket.status : "other";
    const statusBadge = $(".badge--status", item);
    statusBadge.classList.add(`badge--status-${status}`);
    statusBadge.textContent = text(ticket.status) || "unknown";

    $(".ticket__assigned", item).textContent = ticket.assigned ? `Assigned to ${text(ticket.assigned)}` : "";
    const mine = ticket.createdBy && ticket.createdBy === this.session.identityId;
    $(".ticket__by", item).textContent = mine ? "by you" : "";
    $(".ticket__by", item).hidden = !mine;

    const time = $(".ticket__time", item);
    const created = new Date(text(ticket.createdOn));
    if (Number.isNaN(created.getTime())) {
      time.remove();
    } else {
      time.dateTime = created.toISOString();
      time.textContent = created.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
      time.title = created.toString();
    }
    return item;
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
