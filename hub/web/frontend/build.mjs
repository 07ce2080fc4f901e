// Bundles the web application's front end into hub/web/static (served by the hub; no CDN at run
// time). Run by scripts/setup.sh after `npm ci` from the lockfile. Output is not committed.
//  - static/dsfr/    the State design system (CSS, fonts, icons, favicon, its JS module)
//  - static/leaflet/ Leaflet's stylesheet and marker images
//  - static/js/      one ES module per page (src/pages/*.js), our code and the libraries it uses
//  - static/css/     our own stylesheet (src/app.css)
import { build } from "esbuild";
import { cpSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "static");
const modules = join(here, "node_modules");

// Written over, not wiped first: a hub serving from this directory never sees it empty.
mkdirSync(out, { recursive: true });

const dsfr = join(modules, "@gouvfr", "dsfr", "dist");
for (const part of ["dsfr.min.css", "dsfr.module.min.js", "fonts", "icons", "favicon",
                    join("utility", "icons", "icons.min.css")]) {
  cpSync(join(dsfr, part), join(out, "dsfr", part), { recursive: true });
}
cpSync(join(modules, "leaflet", "dist", "leaflet.css"), join(out, "leaflet", "leaflet.css"));
cpSync(join(modules, "leaflet", "dist", "images"), join(out, "leaflet", "images"), { recursive: true });

const pages = readdirSync(join(here, "src", "pages")).filter((name) => name.endsWith(".js"));
await build({
  entryPoints: pages.map((name) => join(here, "src", "pages", name)),
  outdir: join(out, "js"),
  bundle: true,
  format: "esm",
  splitting: true,
  minify: true,
  sourcemap: true,
  target: ["chrome110", "firefox110", "safari16"],
  legalComments: "linked",
  logLevel: "warning",
});
await build({
  entryPoints: [join(here, "src", "app.css")],
  outfile: join(out, "css", "app.css"),
  bundle: true,
  minify: true,
  logLevel: "warning",
});
console.log(`web: ${pages.length} page modules bundled into ${out}`);
