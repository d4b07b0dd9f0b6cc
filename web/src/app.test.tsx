import { act, cleanup, render } from "@testing-library/preact";
import { afterEach, expect, test, vi } from "vitest";
import { App } from "./app";
import { path } from "./lib/router";
import { me, ready } from "./state/session";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

test("a deep link survives /api/auth/me answering before the first render's effects run", () => {
  vi.stubGlobal("fetch", () => new Promise(() => {}));
  history.replaceState(null, "", "/board");
  path.value = "/board";
  act(() => {
    render(<App />);
    // restore() resolving between the first render and its effects
    me.value = { id: 1, email: "ada@acme.io", name: "Ada", role: "admin" };
    ready.value = true;
  });
  expect(location.pathname).toBe("/board");
});

test("a member without an inbox (marketing) lands on the contacts, which every role reads", () => {
  vi.stubGlobal("fetch", () => new Promise(() => {}));
  history.replaceState(null, "", "/inbox");
  path.value = "/inbox";
  act(() => {
    render(<App />);
    me.value = { id: 2, email: "mo@acme.io", name: "Mo", role: "marketing" };
    ready.value = true;
  });
  expect(location.pathname).toBe("/contacts");
  expect(document.querySelector("[data-testid=contacts]")).not.toBeNull();
});
