// Admin form sections marked data-show-when="<field>=<value>" are shown only while that select has
// that value (a provider account's OpenStack sections when its kind is openstack). Without script
// every section stays visible, and the server ignores what does not apply.
function applyShowWhen(form) {
  for (const section of form.querySelectorAll("[data-show-when]")) {
    const [field, value] = section.getAttribute("data-show-when").split("=");
    const select = form.elements.namedItem(field);
    if (select instanceof HTMLSelectElement) section.hidden = select.value !== value;
  }
}

document.addEventListener("change", (event) => {
  const form = event.target instanceof HTMLSelectElement ? event.target.form : null;
  if (form) applyShowWhen(form);
});
for (const form of document.querySelectorAll("form.admin-form")) applyShowWhen(form);
