// Copy the browser files runreg serves from the installed npm packages into the one static folder the app
// mounts at /static (src/runreg/http/static/vendor/, not committed). Add a line here when a page needs a file.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const FILES = [
  "swagger-ui-dist/swagger-ui-bundle.js",
  "swagger-ui-dist/swagger-ui.css",
  "swagger-ui-dist/favicon-32x32.png",
  "redoc/bundles/redoc.standalone.js",
  "htmx.org/dist/htmx.min.js",
  "plotly.js-dist-min/plotly.min.js",
];

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, "..", "src", "runreg", "http", "static", "vendor");
rmSync(target, { recursive: true, force: true });
for (const file of FILES) {
  const destination = join(target, file);
  mkdirSync(dirname(destination), { recursive: true });
  copyFileSync(join(here, "node_modules", file), destination);
}
console.log(`copied ${FILES.length} files into ${target}`);
