// Tile-grid map of the 34 provinces, drawn as SVG from the page's JSON (no map tiles, no
// outside requests). Each tile is a link to the province dashboard, coloured by its quantile
// class of books per 10,000 people (CSS classes coverage-0 … coverage-4, the same as the legend).
(function () {
  "use strict";
  var holder = document.getElementById("province-map");
  var dataNode = document.getElementById("province-map-data");
  if (!holder || !dataNode) {
    return;
  }
  var data = JSON.parse(dataNode.textContent);
  var layout = data.layout;
  var size = 46;
  var gap = 4;
  var svgNS = "http://www.w3.org/2000/svg";
  var svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("viewBox", "0 0 " + layout.columns * (size + gap) + " " + layout.rows * (size + gap));
  svg.setAttribute("role", "group");
  svg.setAttribute("aria-labelledby", "map-heading");
  svg.classList.add("province-map-svg");
  var urlTemplate = holder.dataset.provinceUrl;

  layout.tiles.forEach(function (tile) {
    var value = data.values[tile.code] || null;
    var link = document.createElementNS(svgNS, "a");
    link.setAttribute("href", urlTemplate.replace("/00/", "/" + tile.code + "/"));
    link.setAttribute("data-code", tile.code);
    link.classList.add("province-tile");
    var per10k = value && value.per_10k !== null ? value.per_10k : null;
    var label = (value ? value.name : tile.code) + ": " +
      (per10k === null ? holder.dataset.labelNodata : per10k.toLocaleString(document.documentElement.lang || "vi") + " " + holder.dataset.labelPer10k) +
      (value ? " (" + value.books.toLocaleString(document.documentElement.lang || "vi") + " " + holder.dataset.labelBooks + ")" : "");
    link.setAttribute("aria-label", label);
    var title = document.createElementNS(svgNS, "title");
    title.textContent = label;
    link.appendChild(title);
    var rect = document.createElementNS(svgNS, "rect");
    rect.setAttribute("x", tile.x * (size + gap));
    rect.setAttribute("y", tile.y * (size + gap));
    rect.setAttribute("width", size);
    rect.setAttribute("height", size);
    rect.setAttribute("rx", 4);
    rect.classList.add(value && value["class"] !== null ? "coverage-" + value["class"] : "coverage-none");
    link.appendChild(rect);
    var text = document.createElementNS(svgNS, "text");
    text.setAttribute("x", tile.x * (size + gap) + size / 2);
    text.setAttribute("y", tile.y * (size + gap) + size / 2 - 3);
    text.setAttribute("text-anchor", "middle");
    text.classList.add("tile-abbr");
    text.textContent = tile.abbr;
    link.appendChild(text);
    var pct = document.createElementNS(svgNS, "text");
    pct.setAttribute("x", tile.x * (size + gap) + size / 2);
    pct.setAttribute("y", tile.y * (size + gap) + size / 2 + 12);
    pct.setAttribute("text-anchor", "middle");
    pct.classList.add("tile-value");
    pct.textContent = per10k === null ? "—" : per10k.toLocaleString(document.documentElement.lang || "vi", { maximumFractionDigits: 1 });
    link.appendChild(pct);
    svg.appendChild(link);
  });
  holder.appendChild(svg);
})();
