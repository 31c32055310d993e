// A bad network, shown and survived, on htmx 4's request events. The region a request
// will swap (its target) is aria-busy while it runs and shows a progress bar after
// 300 ms; htmx gives up after 15 s (htmx.config.defaultTimeout, set in base.html).
// A failed GET marks its region "not updated" with a Retry button and tries again by
// itself (1 s, 2 s, 4 s); offline it waits for the network and then re-issues the
// region's last GET. Posts are never sent again by themselves: the form and what was
// typed stay on the page, with a message. The offline banner follows the browser's
// offline/online events and failed requests.
(() => {
  const SLOW_MS = 300;
  const RETRY_DELAYS_MS = [1000, 2000, 4000];
  const regions = new Map(); // region key (its id, or the element) -> {note, timer, attempts, retry}
  let running = 0;

  const byId = (id) => document.getElementById(id);
  const keyOf = (el) => el.id || el;
  const regionOf = (ctx) => (ctx.target instanceof Element && ctx.target !== document.body ? ctx.target : byId("main"));
  const liveRegion = (key) => (typeof key === "string" ? byId(key) : key);
  const state = (key) => {
    if (!regions.has(key)) regions.set(key, { note: null, timer: null, attempts: 0, retry: null });
    return regions.get(key);
  };

  function setOffline(offline) {
    byId("net-banner").hidden = !offline;
  }

  function showProgress() {
    byId("net-progress").hidden = running === 0;
  }

  function clearNote(key) {
    const s = regions.get(key);
    if (!s) return;
    clearTimeout(s.timer);
    s.note?.remove();
    liveRegion(key)?.classList.remove("net-stale");
    regions.delete(key);
  }

  function note(key, text, retry) {
    const s = state(key);
    const region = liveRegion(key);
    if (!s.note?.isConnected) {
      s.note = document.createElement("div");
      s.note.className = "net-note flash flash-warning";
      s.note.setAttribute("role", "alert");
      region?.before(s.note);
    }
    s.note.replaceChildren(document.createTextNode(text + " "));
    s.retry = retry;
    if (retry) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "net-retry";
      button.textContent = "Retry";
      button.addEventListener("click", () => { s.attempts = 0; retry(); });
      s.note.append(button);
    }
  }

  // The same GET again, from the same element (a form sends its current values), into the
  // same region; a try still hanging is given up first, so Retry never waits behind it.
  function reissue(ctx, key) {
    return () => {
      clearTimeout(state(key).timer);
      const target = liveRegion(key);
      const source = ctx.sourceElement?.isConnected ? ctx.sourceElement : document.body;
      if (!target) return;
      htmx.trigger(source, "htmx:abort");
      htmx.ajax("GET", ctx.request.action, { source, target });
    };
  }

  function failed(ctx, reason) {
    const key = ctx.netKey;
    if (key === undefined) return;
    ctx.sourceElement?.classList?.add("net-pending");
    if (ctx.request.method !== "GET") {
      note(key, `Not sent: ${reason}. What you typed is still here: send it again when the connection is back.`, null);
      return;
    }
    liveRegion(key)?.classList.add("net-stale"); // what it shows is older than its controls
    const s = state(key);
    const retry = reissue(ctx, key);
    if (!navigator.onLine) {
      note(key, "Not updated: you are offline. This part updates when the connection is back.", retry);
      return;
    }
    const delay = RETRY_DELAYS_MS[s.attempts];
    if (delay === undefined) {
      note(key, `Not updated: ${reason}.`, retry);
      return;
    }
    s.attempts += 1;
    note(key, `Not updated: ${reason}. Trying again in ${delay / 1000} s…`, retry);
    s.timer = setTimeout(retry, delay);
  }

  htmx.on("htmx:before:request", (evt) => {
    const ctx = evt.detail.ctx;
    const region = regionOf(ctx);
    if (!region) return;
    ctx.netKey = keyOf(region);
    clearTimeout(regions.get(ctx.netKey)?.timer);
    region.setAttribute("aria-busy", "true");
    running += 1;
    ctx.netSlow = setTimeout(() => { region.classList.add("net-slow"); showProgress(); }, SLOW_MS);
  });

  htmx.on("htmx:finally:request", (evt) => {
    const ctx = evt.detail.ctx;
    if (ctx.netKey === undefined) return;
    clearTimeout(ctx.netSlow);
    running -= 1;
    for (const el of [liveRegion(ctx.netKey), ctx.target]) {
      el?.removeAttribute?.("aria-busy");
      el?.classList?.remove("net-slow");
    }
    showProgress();
  });

  // A form refused as expired gets a fresh CSRF token with the answer: put it in place, so
  // that sending it once more works (what was typed is still in the form).
  function freshToken(token) {
    document.body.setAttribute("hx-headers:inherited", JSON.stringify({ "X-CSRF-Token": token }));
    for (const input of document.querySelectorAll('input[name="csrf_token"]')) input.value = token;
  }

  // An answer came: the network works.
  htmx.on("htmx:after:request", (evt) => {
    setOffline(false);
    const token = evt.detail.ctx.response?.headers?.get("X-CSRF-Token");
    if (token) freshToken(token);
  });

  htmx.on("htmx:after:swap", (evt) => {
    const ctx = evt.detail.ctx;
    if (ctx.netKey === undefined || ctx.response?.status >= 400) return;
    clearNote(ctx.netKey);
    ctx.sourceElement?.classList?.remove("net-pending");
  });

  htmx.on("htmx:response:error", (evt) => {
    const ctx = evt.detail.ctx;
    if (ctx.response.status >= 500) failed(ctx, "the server could not answer just now");
  });

  htmx.on("htmx:error", (evt) => {
    const ctx = evt.detail.ctx;
    if (!ctx?.request) return;
    if (ctx.request.signal?.reason === "timeout") {
      failed(ctx, "the server took longer than 15 s");
    } else if (!ctx.response || evt.detail.error instanceof TypeError) { // not a swap error: the network
      setOffline(true);
      failed(ctx, navigator.onLine ? "the connection failed" : "you are offline");
    }
  });

  // A plain form (no htmx) sent offline would leave for the browser's error page and lose
  // what was typed: keep it here instead. htmx's own forms have prevented the default already.
  document.addEventListener("submit", (evt) => {
    if (navigator.onLine || evt.defaultPrevented) return;
    evt.preventDefault();
    setOffline(true);
    note(keyOf(evt.target), "Not sent: you are offline. What you typed is still here: send it again when the connection is back.", null);
  });

  window.addEventListener("offline", () => setOffline(true));
  window.addEventListener("online", () => {
    setOffline(false);
    for (const [key, s] of [...regions]) {
      if (s.retry) { s.attempts = 0; s.retry(); }
      else note(key, "The connection is back: send the form again.", null);
    }
  });
  if (!navigator.onLine) setOffline(true);
})();
