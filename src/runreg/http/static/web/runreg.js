// runreg pages: htmx does the work; this only tells it to show error answers (4xx/5xx) in their target, so a
// refused write says why where the person looks, instead of being dropped silently.
document.addEventListener("DOMContentLoaded", () => {
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "[45]..", swap: true, error: true },
    ];
  }
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") document.querySelectorAll(".popover.open").forEach((p) => p.classList.remove("open"));
  });
});
