// The app as built from this checkout, in front of a hub whose binary embeds an older build:
// with E2E_WEB_DIST=<a `vite build` output>, the browser tests load the app from there and
// everything else (/api, /ws, /webhooks…) goes to the hub unchanged, Host header included,
// so the hub's same-origin checks see the origin the browser used. Without it the hub
// serves its own embedded app, as in CI (scripts/test builds the binary from this tree).

import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { connect } from "node:net";
import { extname, join, normalize } from "node:path";
import { gzipSync } from "node:zlib";
import { freePort } from "./ports";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
};

/** Paths the hub answers itself; every other path is the app (its index.html or an asset). */
const HUB = /^\/(api|ws|webhooks|healthz|readyz|metrics|openapi)(\/|\?|$)/;

export function startWebFront(dist: string, hubUrl: () => string): Promise<{ url: string; close: () => void }> {
  const target = () => new URL(hubUrl());
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (!HUB.test(path)) {
      const file = normalize(join(dist, path));
      const asset = file.startsWith(dist) && existsSync(file) && statSync(file).isFile() ? file : join(dist, "index.html");
      // Gzipped to browsers that take it, as the hub serves its assets (shell.e2e.ts weighs them).
      const gzip = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
      const plain = readFileSync(asset);
      const body = gzip ? gzipSync(plain) : plain;
      res.writeHead(200, {
        "Content-Type": TYPES[extname(asset)] ?? "application/octet-stream",
        "Cache-Control": "no-cache",
        "Content-Length": body.length,
        Vary: "Accept-Encoding",
        ...(gzip ? { "Content-Encoding": "gzip" } : {}),
      });
      res.end(body);
      return;
    }
    const t = target();
    const up = request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on("error", () => {
      res.writeHead(502);
      res.end("the hub is away");
    });
    req.pipe(up);
  });
  // The websocket: the upgrade request passed on as it came, then bytes both ways.
  server.on("upgrade", (req, socket, head) => {
    const t = target();
    const up = connect(Number(t.port), t.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(lines.join("\r\n") + "\r\n\r\n");
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    const close = () => {
      up.destroy();
      socket.destroy();
    };
    up.on("error", close);
    socket.on("error", close);
    up.on("close", close);
    socket.on("close", close);
  });
  return freePort().then(
    (port) =>
      new Promise((ok) => {
        server.listen(port, "127.0.0.1", () => ok({ url: `http://127.0.0.1:${port}`, close: () => server.close() }));
      }),
  );
}
