// Sorting and filtering of the long tables, in the page itself: no network, no library.
document.querySelectorAll("table.long").forEach(function (table) {
  var body = table.tBodies[0];
  var count = table.parentNode.querySelector(".count");
  var filter = table.parentNode.querySelector("input.filter");
  var total = body.rows.length;
  function shown() {
    var visible = 0;
    Array.prototype.forEach.call(body.rows, function (row) { if (!row.classList.contains("hidden")) visible++; });
    if (count) count.textContent = visible === total ? total + " rows" : visible + " of " + total + " rows";
  }
  if (filter) {
    filter.addEventListener("input", function () {
      var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      Array.prototype.forEach.call(body.rows, function (row) {
        var text = row.textContent.toLowerCase();
        row.classList.toggle("hidden", !words.every(function (w) { return text.indexOf(w) >= 0; }));
      });
      shown();
    });
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, column) {
    header.classList.add("sortable");
    header.addEventListener("click", function () {
      var ascending = header.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var numeric = header.classList.contains("num");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute("data-sort"), y = b.cells[column].getAttribute("data-sort");
        var order = numeric ? (parseFloat(x || "0") - parseFloat(y || "0")) : (x < y ? -1 : x > y ? 1 : 0);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
  shown();
});
