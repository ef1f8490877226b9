// The banner under the header: one message at a time, with a topic so that a success can clear "its" message
// (e.g. a reachable API clears "unreachable", a healthy region clears "health").

import { $ } from "./dom.js";

export class Banner {
  constructor(element) {
    this.element = element;
    this.text = $(".banner__text", element);
    this.action = $(".banner__action", element);
    this.topic = "";
    this.onAction = null;
    this.action.addEventListener("click", () => this.onAction && this.onAction());
    $(".banner__close", element).addEventListener("click", () => this.clear());
  }

  // kind: "error" or "warning"; action: optional {label, run}.
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
