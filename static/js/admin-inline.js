// Inline editing on the admin pages: Escape cancels the open field (its Cancel link swaps
// the saved value back in); Ctrl+Enter (or Cmd+Enter) saves a multi-line field, where a
// plain Enter starts a new line. In single-line fields Enter submits the form by itself.
document.addEventListener("keydown", (event) => {
  const form = event.target.closest && event.target.closest("form.inline-edit");
  if (!form) return;
  if (event.key === "Escape") {
    const cancel = form.querySelector("a.cancel");
    if (cancel) {
      event.preventDefault();
      cancel.click();
    }
  } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.matches("textarea")) {
    event.preventDefault();
    form.requestSubmit();
  }
});
