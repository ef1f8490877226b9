// The region badge in the header: which region serves the ticket API and how it is, from /health, and, while the
// page has failed over by itself (failover.js), that the other region is down. Checked at start, every minute
// while the page is visible, on its refresh button, and whenever the page moves between regions.
//
// The value element (data-testid="region") carries data-state (checking, healthy, unhealthy, unreachable,
// unknown: the serving region's health) and data-down (the region the page failed over from, or "").

import { $, testId } from "./dom.js";
import { hostOf } from "./errors.js";

const HEALTH_EVERY_MS = 60 * 1000;

export class RegionBadge {
  constructor({ settings, api, router, banner, report }) {
    this.settings = settings;
    this.api = api;
    this.router = router;
    this.banner = banner;
    this.report = report;
    this.pill = $(".region-pill");
    this.value = testId("region");
    this.refresh = testId("region-refresh");
  }

  start() {
    this.refresh.addEventListener("click", () => this.check());
    this.api.addEventListener("health", (event) => this.render(event.detail));
    this.router.addEventListener("change", () => {
      this.render({ region: this.router.servingRegion, status: "checking", reason: "" });
      this.check();
    });
    this.check();
    setInterval(() => document.visibilityState === "visible" && this.check(), HEALTH_EVERY_MS);
  }

  async check() {
    this.pill.classList.add("is-checking");
    this.refresh.disabled = true;
    try {
      await this.api.health(); // the "health" event renders the answer
    } catch (err) {
      this.report(err); // an unreachable API gets the banner, whoever asked
    } finally {
      this.pill.classList.remove("is-checking");
      this.refresh.disabled = false;
    }
  }

  render({ region, status, reason }) {
    const down = this.router.pinned ? this.router.down || "" : "";
    for (const element of [this.pill, this.value]) {
      element.dataset.state = status;
      element.dataset.down = down;
    }
    this.value.textContent = "";
    const name = document.createElement("span");
    name.className = "region-pill__name";
    name.textContent = region || (status === "unreachable" ? "unreachable" : "unknown");
    this.value.append(name);
    const notes = [];
    if (status === "unhealthy") notes.push("unhealthy");
    if (down) notes.push(`${down} down`);
    if (notes.length) {
      const state = document.createElement("span");
      state.className = "region-pill__state";
      state.textContent = ` · ${notes.join(" · ")}`;
      this.value.append(state);
    }
    this.pill.title = this.describe(region, status, reason, down);
    if (status === "healthy") {
      this.banner.clear("health");
    } else if (status === "unhealthy") {
      this.banner.show(
        "warning",
        "health",
        `The ticket API in ${region || "its region"} reports it is unhealthy${reason ? ` (${reason})` : ""}. ` +
          "If it stays that way, traffic fails over to the other region.",
        { label: "Check again", run: () => this.check() },
      );
    }
  }

  describe(region, status, reason, down) {
    const failedOver = down ? ` The API in ${down} is down: this page uses ${region} until ${down} is back.` : "";
    if (status === "healthy") return `The ticket API is served from ${region} and is healthy.${failedOver}`;
    if (status === "unhealthy") {
      return `The API in ${region || "this region"} reports it is unhealthy${reason ? `: ${reason}` : ""}.${failedOver}`;
    }
    if (status === "unreachable") return `The API at ${hostOf(this.router.target().base)} can't be reached.`;
    if (status === "checking") return `Checking the API in ${region}…${failedOver}`;
    return "The API did not say which region serves it.";
  }
}
