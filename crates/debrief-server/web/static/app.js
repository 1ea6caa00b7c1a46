// Optional comforts; every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // The language menu applies itself; its button stays for keyboards and for no script.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  // Picking a date means a custom period.
  const custom = document.querySelector(".period input[value=custom]");
  document.querySelectorAll(".period input[type=date]").forEach((input) => {
    input.addEventListener("change", () => { if (custom) custom.checked = true; });
  });
  // An open side panel takes the focus, and Escape closes it.
  const panel = document.querySelector("[data-testid=panel]");
  if (panel) {
    const heading = panel.querySelector("#panel-title");
    if (heading && !panel.querySelector("[autofocus]")) heading.focus();
    document.addEventListener("keydown", (event) => {
      // Not while typing in a form: nothing typed is thrown away.
      if (event.key === "Escape" && panel.dataset.close && !event.target.closest("form")) {
        window.location.href = panel.dataset.close;
      }
    });
  }
});
