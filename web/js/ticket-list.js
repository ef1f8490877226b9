// The ticket list: the signed-in owner's tickets, newest first, a page at a time ("Load more" follows the API's
// `next` token), each shown from the <template> with textContent only (user content is never HTML).

import { $, testId } from "./dom.js";

const PRIORITIES = ["low", "medium", "high"];
const STATUSES = ["open", "assigned", "closed"];
const HIGHLIGHT_MS = 2500;

export class TicketList {
  constructor({ api, report }) {
    this.api = api;
    this.report = report;
    this.element = testId("ticket-list");
    this.status = $(".list-status");
    this.loadMoreButton = testId("load-more");
    this.next = null;
    this.ticketIds = new Set();
    this.generation = 0; // bumped by every reload and sign-out: answers for an older one are dropped
  }

  start() {
    this.loadMoreButton.addEventListener("click", () => this.loadMore());
    $(".list-refresh").addEventListener("click", () => this.loadFirstPage());
  }

  clear() {
    this.generation += 1;
    this.element.replaceChildren();
    this.ticketIds.clear();
    this.next = null;
    this.loadMoreButton.hidden = true;
    $(".empty").hidden = true;
    this.status.textContent = "";
    $(".ticket-count").textContent = "";
  }

  async loadFirstPage() {
    const generation = ++this.generation;
    this.status.classList.remove("is-error");
    this.status.textContent = "Loading tickets…";
    try {
      const page = await this.api.listTickets();
      if (generation !== this.generation) return; // signed out or reloaded meanwhile
      this.element.replaceChildren();
      this.ticketIds.clear();
      for (const ticket of page.tickets) this.addTicket(ticket);
      this.setNext(page.next);
      this.status.textContent = "";
    } catch (err) {
      if (generation !== this.generation) return;
      this.status.classList.add("is-error");
      this.status.textContent = `Couldn't load tickets: ${this.report(err)}`;
    }
    this.updateState();
  }

  async loadMore() {
    if (!this.next) return;
    const generation = this.generation;
    const button = this.loadMoreButton;
    button.disabled = true;
    button.textContent = "Loading…";
    try {
      const page = await this.api.listTickets(this.next);
      if (generation !== this.generation) return;
      for (const ticket of page.tickets) this.addTicket(ticket);
      this.setNext(page.next);
      this.status.classList.remove("is-error");
      this.status.textContent = "";
    } catch (err) {
      if (generation !== this.generation) return;
      this.status.classList.add("is-error");
      this.status.textContent = `Couldn't load more tickets: ${this.report(err)}`;
    } finally {
      button.disabled = false;
      button.textContent = "Load more";
      this.updateState();
    }
  }

  // The message shown while the list can't load yet.
  waiting(message) {
    this.status.textContent = message;
  }

  setNext(next) {
    this.next = next;
    this.loadMoreButton.hidden = !next;
  }

  updateState() {
    const count = this.ticketIds.size;
    $(".empty").hidden = count > 0 || this.status.classList.contains("is-error");
    $(".ticket-count").textContent = count ? `· ${count}${this.next ? "+" : ""}` : "";
  }

  // Adds a ticket once (by id): at the end, or at the top for one just created.
  addTicket(ticket, { atTop = false, highlight = false } = {}) {
    if (!ticket || typeof ticket !== "object") return;
    const id = typeof ticket.id === "string" ? ticket.id : "";
    if (id && this.ticketIds.has(id)) return;
    if (id) this.ticketIds.add(id);
    const item = renderTicket(ticket);
    if (atTop) this.element.prepend(item);
    else this.element.append(item);
    if (highlight) {
      item.classList.add("is-new");
      setTimeout(() => item.classList.remove("is-new"), HIGHLIGHT_MS);
    }
    this.updateState();
  }
}

const text = (value) => (typeof value === "string" ? value : value == null ? "" : String(value));

function renderTicket(ticket) {
  const item = $("#ticket-template").content.firstElementChild.cloneNode(true);
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
  // Every listed ticket is the owner's; one created by an IAM principal (createdBy an ARN: the operator, for
  // support) was not made by the user, the others (createdBy a Cognito identity id, in either pool) were.
  const byUser = typeof ticket.createdBy === "string" && ticket.createdBy !== "" && !ticket.createdBy.startsWith("arn:");
  $(".ticket__by", item).textContent = byUser ? "by you" : "by Wild Rydes support";
  $(".ticket__by", item).hidden = !ticket.createdBy;

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
