// Hold countdowns: an element with data-countdown="<ISO time>" shows the time left
// (minutes and seconds, or hours and minutes for the long verification window), on the
// server's clock (data-now, the time the server rendered it). At zero it fires
// "countdown-end", which the fragment around it (hx-trigger) turns into a request for
// its fresh state. Without JavaScript the page shows the time the hold ends instead.
const leftText = (seconds) => {
  if (seconds <= 0) return "(time is up)";
  if (seconds >= 3600) return `(${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min left)`;
  return `(${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")} left)`;
};

const startCountdown = (el) => {
  if (el.dataset.counting) return;
  el.dataset.counting = "yes";
  const skew = el.dataset.now ? Date.parse(el.dataset.now) - Date.now() : 0;
  const end = Date.parse(el.dataset.countdown);
  const tick = () => {
    if (!el.isConnected) return;
    const left = Math.max(0, Math.ceil((end - Date.now() - skew) / 1000));
    el.textContent = leftText(left);
    if (left > 0) setTimeout(tick, 1000);
    else el.dispatchEvent(new CustomEvent("countdown-end", { bubbles: true }));
  };
  tick();
};

// Started once htmx has wired the page (so "countdown-end" has its listener), and again
// for every swapped-in fragment; htmx may have processed the page before this script ran.
const startAll = (root) => {
  for (const el of root.querySelectorAll("[data-countdown]")) startCountdown(el);
};
htmx.onLoad(startAll);
if (document.querySelector("[data-htmx-powered]")) startAll(document);
