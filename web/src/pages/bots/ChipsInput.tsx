import { useState } from "preact/hooks";

interface Props {
  label: string;
  values: string[];
  onChange: (values: string[]) => void;
  placeholder?: string;
  /** The hub's 422 for one chip (`keywords[2]: empty`) or the whole list. */
  errorFor?: (index: number | null) => string | null;
  id: string;
}

/** Words as removable chips; Enter or a comma adds what is typed, Backspace on empty removes the last. */
export function ChipsInput({ label, values, onChange, placeholder, errorFor, id }: Props) {
  const [text, setText] = useState("");
  const add = () => {
    const words = text
      .split(",")
      .map((w) => w.trim())
      .filter((w) => w && !values.includes(w));
    if (words.length) onChange([...values, ...words]);
    setText("");
  };
  const listError = errorFor?.(null) ?? null;
  return (
    <div class="bots-chips" role="group" aria-labelledby={`${id}-label`}>
      <span id={`${id}-label`} class="bots-label">
        {label}
      </span>
      <ul class="bots-chip-list">
        {values.map((v, i) => {
          const err = errorFor?.(i) ?? null;
          return (
            <li key={v} class={`chip bots-chip${err ? " bots-chip-invalid" : ""}`}>
              <span>{v}</span>
              <button type="button" class="ghost small" aria-label={`Remove ${v}`} onClick={() => onChange(values.filter((x) => x !== v))}>
                ×
              </button>
              {err && <span class="error bots-field-error">{err}</span>}
            </li>
          );
        })}
      </ul>
      <div class="row">
        <input
          id={id}
          aria-label={`Add to ${label.toLowerCase()}`}
          value={text}
          placeholder={placeholder}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" || e.key === ",") {
              e.preventDefault();
              add();
            } else if (e.key === "Backspace" && !text && values.length) {
              onChange(values.slice(0, -1));
            }
          }}
          onBlur={add}
        />
      </div>
      {listError && <p class="error bots-field-error">{listError}</p>}
    </div>
  );
}
