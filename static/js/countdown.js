// The hold countdown on the pay page: the page prints the expiry time; this adds the
// minutes and seconds left beside it, ticking once a second. Without JavaScript the
// time alone is shown.
for (const time of document.querySelectorAll("time[data-countdown]")) {
  const until = Date.parse(time.getAttribute("datetime"));
  const out = time.nextElementSibling;
  const tick = () => {
    const left = Math.max(0, Math.round((until - Date.now()) / 1000));
    const minutes = Math.floor(left / 60);
    const seconds = String(left % 60).padStart(2, "0");
    out.textContent = left > 0 ? ` (${minutes}:${seconds} left)` : " (the hold has lapsed: reload the page)";
    if (left > 0) setTimeout(tick, 1000);
  };
  tick();
}
