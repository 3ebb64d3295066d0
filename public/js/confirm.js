// Confirmations (views/_confirm.ejs): a button data-confirm="<dialog id>" opens that dialog as a
// modal; the browser closes a modal dialog on Escape, and a [data-confirm-close] button closes it
// too. Listening on the document, so buttons swapped in later (live-regions.js) work as well.
document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const opener = target && target.closest("[data-confirm]");
  if (opener) {
    const dialog = document.getElementById(opener.getAttribute("data-confirm") || "");
    if (dialog instanceof HTMLDialogElement && !dialog.open) dialog.showModal();
    return;
  }
  const closer = target && target.closest("[data-confirm-close]");
  const dialog = closer && closer.closest("dialog");
  if (dialog) dialog.close();
});
