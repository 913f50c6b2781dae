// Opened with ?print=1 (logged as a print): show the browser's print dialog once loaded.
window.addEventListener("load", function () { window.print(); });
