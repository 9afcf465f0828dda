// ppp-tracker: small progressive enhancements; the pages work without it.
document.addEventListener("DOMContentLoaded", () => {
  // Submit a filter form as soon as a select changes (no inline handlers: CSP forbids them).
  document.querySelectorAll("form[data-autosubmit] select").forEach((select) => {
    select.addEventListener("change", () => select.form.requestSubmit());
  });
  // Ask before irreversible actions.
  document.querySelectorAll("[data-confirm]").forEach((element) => {
    element.addEventListener("click", (event) => {
      if (!window.confirm(element.dataset.confirm)) {
        event.preventDefault();
      }
    });
  });
});
