// Analytics dashboard: submit a filter form as soon as a select changes, and let
// every table be sorted by clicking its header. No data is fetched here: the page
// is server-rendered, so it works without this script.

for (const select of document.querySelectorAll("form.filters select")) {
  select.addEventListener("change", () => select.form.requestSubmit());
}

function cellValue(cell) {
  const text = cell.textContent.trim().replace(/%$/, "");
  const number = Number(text);
  return text !== "" && !Number.isNaN(number) ? number : text.toLocaleLowerCase();
}

for (const table of document.querySelectorAll(".analytics-table table")) {
  const headers = table.querySelectorAll("thead th");
  headers.forEach((header, index) => {
    header.tabIndex = 0;
    header.setAttribute("aria-sort", "none");
    const sort = () => {
      const ascending = header.getAttribute("aria-sort") !== "ascending";
      headers.forEach((h) => h.setAttribute("aria-sort", "none"));
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const body = table.tBodies[0];
      const rows = Array.from(body.rows);
      rows.sort((a, b) => {
        const x = cellValue(a.cells[index]);
        const y = cellValue(b.cells[index]);
        const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return ascending ? order : -order;
      });
      body.append(...rows);
    };
    header.addEventListener("click", sort);
    header.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        sort();
      }
    });
  });
}
