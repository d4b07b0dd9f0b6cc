import { cleanup, fireEvent, render } from "@testing-library/preact";
import { afterEach, describe, expect, test } from "vitest";
import { useKeyboard } from "./useKeyboard";

afterEach(cleanup);

function Harness({ log }: { log: string[] }) {
  useKeyboard({ next: (d) => log.push(d > 0 ? "next" : "prev"), resolve: () => log.push("resolve"), search: () => log.push("search") });
  return (
    <div>
      <input aria-label="field" />
      <textarea aria-label="reply" />
      <button type="button">b</button>
    </div>
  );
}

describe("inbox shortcuts", () => {
  test("j, k, e and / act outside fields", () => {
    const log: string[] = [];
    const { getByText } = render(<Harness log={log} />);
    for (const key of ["j", "k", "e", "/"]) fireEvent.keyDown(getByText("b"), { key });
    expect(log).toEqual(["next", "prev", "resolve", "search"]);
  });

  test("never while typing in a field, nor with a modifier", () => {
    const log: string[] = [];
    const { getByLabelText, getByText } = render(<Harness log={log} />);
    for (const key of ["j", "k", "e", "/"]) {
      fireEvent.keyDown(getByLabelText("field"), { key });
      fireEvent.keyDown(getByLabelText("reply"), { key });
    }
    fireEvent.keyDown(getByText("b"), { key: "j", ctrlKey: true });
    expect(log).toEqual([]);
  });

  test("a handled key is not typed anywhere (the / does not land in the search box)", () => {
    const { getByText } = render(<Harness log={[]} />);
    expect(fireEvent.keyDown(getByText("b"), { key: "/" })).toBe(false);
    expect(fireEvent.keyDown(getByText("b"), { key: "x" })).toBe(true);
  });
});
