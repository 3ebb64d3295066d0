// Inputs marked data-autosubmit submit their form when changed (the "Show archived" checkbox).
document.addEventListener("change", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.hasAttribute("data-autosubmit") && input.form) input.form.submit();
});
