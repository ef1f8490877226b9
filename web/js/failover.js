// Which API the page talks to, and the page's own failover between the two regions.
//
// Normally every call goes to `apiUrl` (once `wildrydes replicate` ran, the failover name api.<domain>, which
// DNS points at a healthy region; else the primary's regional URL), signed for the region its last /health
// answer named (else config.region). When a call to it gets no answer or a 5xx and the other region's
// regional URL (`apiUrls[other]`) answers the same call, the page keeps using that region ("pinned"), rather
// than waiting for DNS to fail over, and says the first one is down. While pinned it probes the primary's
// `apiUrls[primary]health` every 5 s and returns to `apiUrl` once that answers 200.
//
// With one region (before replicate) there is nowhere to fail over to and none of this applies.
//
// Events: "change" (pinned to a region, or back to apiUrl).

import { fetchOrUnreachable } from "./errors.js";
import { otherRegion } from "./settings.js";

export const PROBE_EVERY_MS = 5000;
const PROBE_TIMEOUT_MS = 4000;

export class RegionRouter extends EventTarget {
  constructor(settings) {
    super();
    this.settings = settings;
    this.healthRegion = null; // the region apiUrl's last /health answer named
    this.pinned = null; // the region the page fails over to, or null: apiUrl
    this.down = null; // the region whose failure pinned it
    this.probeTimer = null;
    this.probing = false;
  }

  get canFailOver() {
    return this.settings.regions.length > 1;
  }

  // Where a call goes now: {base (ends with "/"), region (to sign for), pinned}.
  target() {
    if (this.pinned) return { base: this.settings.apiUrls[this.pinned], region: this.pinned, pinned: true };
    return { base: this.settings.apiUrl, region: this.healthRegion || this.settings.region, pinned: false };
  }

  // The region serving the page's calls: sign-in prefers its identity pool.
  get servingRegion() {
    return this.target().region;
  }

  // The other region's regional API, for a call that `from` could not serve; null with one region.
  alternative(from) {
    const region = otherRegion(this.settings, from.region);
    return region ? { base: this.settings.apiUrls[region], region, pinned: true } : null;
  }

  // Calls to `apiUrl` reached the region named by its /health.
  noteHealthRegion(region) {
    if (region && this.settings.regions.includes(region)) this.healthRegion = region;
  }

  // `to` served a call `from` could not: keep using it until the primary is healthy again.
  pin(to, from) {
    if (this.pinned === to && this.down === from) return;
    this.pinned = to;
    this.down = from;
    this.startProbing();
    this.dispatchEvent(new Event("change"));
  }

  unpin() {
    this.stopProbing();
    if (!this.pinned) return;
    this.pinned = null;
    this.down = null;
    this.dispatchEvent(new Event("change"));
  }

  startProbing() {
    if (this.probeTimer) return;
    this.probeTimer = setInterval(() => this.probePrimary(), PROBE_EVERY_MS);
  }

  stopProbing() {
    clearInterval(this.probeTimer);
    this.probeTimer = null;
  }

  // GET apiUrls[primary]health (unsigned); a 200 ends the failover.
  async probePrimary() {
    if (this.probing || !this.pinned) return;
    this.probing = true;
    try {
      const url = this.settings.apiUrls[this.settings.region] + "health";
      const response = await fetchOrUnreachable("Wild Rydes API", url, { cache: "no-store", credentials: "omit" },
        PROBE_TIMEOUT_MS);
      if (response.status === 200) this.unpin();
    } catch {
      // still down: probe again at the next tick
    } finally {
      this.probing = false;
    }
  }
}
