import { defineConfig } from "vite";

// No framework plugin: Preact's JSX needs only the automatic runtime pointed at preact,
// which Vite's own transformer does (one dependency fewer to keep in step with Vite).
export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  resolve: { alias: { react: "preact/compat", "react-dom": "preact/compat" } },
  build: {
    // build.rs points this at cargo's OUT_DIR; a plain `npm run build` writes dist/.
    outDir: process.env.TICKHUB_WEB_OUT ?? "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev` against a hub on :8080 (TICKHUB_DEV_HUB to change it).
    proxy: Object.fromEntries(
      ["/api", "/ws"].map((p) => [p, { target: process.env.TICKHUB_DEV_HUB ?? "http://127.0.0.1:8080", ws: p === "/ws" }]),
    ),
  },
});
