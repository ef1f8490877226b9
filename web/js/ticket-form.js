// The "New ticket" form: reads and lightly checks the fields, creates the ticket through the API and shows the
// outcome. Client-side checks only catch what is obviously missing; the API enforces the lengths and the
// allowed values, and its 400 message is shown in the form's error area.
//
// Each ticket gets its id here (a UUID). A submit that failed without an answer (the API out of reach) keeps
// that id while the fields stay the same, so submitting again cannot make a second ticket if the first one
// was stored after all: the API's create is a conditional put on the id.

import { newTicketId } from "./api.js";
import { $, $$, testId } from "./dom.js";
import { ApiError, SessionExpiredError } from "./errors.js";

const SUCCESS_VISIBLE_MS = 5000;
const TEXT_FIELDS = ["description", "assigned"];

export class TicketForm {
  constructor({ api, list, report }) {
    this.api = api;
    this.list = list;
    this.report = report;
    this.form = $(".ticket-form");
    this.description = testId("ticket-description");
    this.submitButton = testId("ticket-submit");
    this.pending = null; // {fields (JSON), id}: the last submit that got no answer
    this.successTimer = null;
  }

  start() {
    const count = () => {
      const length = this.description.value.trim().length;
      $(".description-count").textContent = String(length);
      $("#description-hint").classList.toggle("is-warning", length > 0 && (length < 10 || length > 2000));
    };
    this.description.addEventListener("input", count);
    for (const name of TEXT_FIELDS) {
      const input = testId(`ticket-${name}`);
      input.addEventListener("input", () => {
        input.removeAttribute("aria-invalid");
        $(`#${name}-error`).textContent = "";
      });
    }
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  fields() {
    return {
      description: this.description.value.trim(),
      assigned: testId("ticket-assigned").value.trim(),
      priority: testId("ticket-priority").value,
      status: testId("ticket-status").value,
    };
  }

  // The id for these fields: the unanswered attempt's when they are the same, else a new one.
  idFor(fields) {
    const key = JSON.stringify(fields);
    if (!this.pending || this.pending.fields !== key) this.pending = { fields: key, id: newTicketId() };
    return this.pending.id;
  }

  async submit() {
    const fields = this.fields();
    this.clearMessages();
    const missing = [];
    if (!fields.description) missing.push(["description", "Describe what went wrong."]);
    if (!fields.assigned) missing.push(["assigned", "Say who should handle this ticket."]);
    if (missing.length) {
      for (const [name, message] of missing) this.fieldError(name, message);
      testId(`ticket-${missing[0][0]}`).focus();
      return;
    }
    const id = this.idFor(fields);
    this.submitButton.disabled = true;
    this.submitButton.textContent = "Submitting…";
    try {
      const ticket = await this.api.createTicket(id, fields);
      this.pending = null;
      this.list.addTicket(ticket, { atTop: true, highlight: true });
      this.description.value = "";
      $(".description-count").textContent = "0";
      this.showSuccess("Ticket created. It's at the top of your list.");
    } catch (err) {
      // A 4xx refused the create (nothing stored): the next submit is a new ticket. After a 5xx or no answer
      // the ticket may have been stored, so the same fields keep the same id.
      if (err instanceof ApiError && err.status < 500) this.pending = null;
      const text = err instanceof ApiError ? err.message : this.report(err);
      if (err instanceof ApiError) {
        const field = /'(description|assigned|priority|status)'/.exec(err.message);
        if (field) testId(`ticket-${field[1]}`).setAttribute("aria-invalid", "true");
      }
      if (!(err instanceof SessionExpiredError)) this.formError(text);
    } finally {
      this.submitButton.disabled = false;
      this.submitButton.textContent = "Submit ticket";
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

  clearMessages() {
    const error = testId("form-error");
    error.hidden = true;
    error.textContent = "";
    $(".form-success").hidden = true;
    for (const name of TEXT_FIELDS) $(`#${name}-error`).textContent = "";
    for (const input of $$(".ticket-form [aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  reset() {
    this.form.reset();
    this.pending = null;
    $(".description-count").textContent = "0";
    $("#description-hint").classList.remove("is-warning");
    this.clearMessages();
  }
}
