// On a narrow screen the book's section tabs scroll sideways (book.css): bring the open tab into
// view, without moving the page itself.
(function () {
  "use strict";
  var row = document.querySelector("ul.book-tabs");
  var active = row && row.querySelector(".nav-link.active");
  if (!active || row.scrollWidth <= row.clientWidth) { return; }
  var item = active.parentElement;
  row.scrollLeft = Math.max(0, item.offsetLeft - row.offsetLeft - (row.clientWidth - item.offsetWidth) / 2);
})();
