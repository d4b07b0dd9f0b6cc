import { useLayoutEffect, useRef } from "preact/hooks";
import { insertAt, renderTemplate, VARIABLES, type PreviewVars } from "./template";

interface Props {
  label: string;
  value: string;
  onChange: (v: string) => void;
  vars: PreviewVars;
  error: string | null;
  rows?: number;
  placeholder?: string;
  /** Id prefix, unique on the page. */
  id: string;
}

/**
 * A template with buttons that insert a variable at the caret, and a preview rendered here
 * as one types (with a sample contact); the tester shows what the hub itself renders.
 */
export function TemplateField({ label, value, onChange, vars, error, rows = 3, placeholder, id }: Props) {
  const area = useRef<HTMLTextAreaElement>(null);
  const caret = useRef<number | null>(null);

  // After an insertion re-renders the text, put the caret just after what was inserted.
  useLayoutEffect(() => {
    const el = area.current;
    if (el && caret.current !== null) {
      el.focus();
      el.setSelectionRange(caret.current, caret.current);
      caret.current = null;
    }
  });

  const insert = (name: string) => {
    const el = area.current;
    const start = el?.selectionStart ?? value.length;
    const end = el?.selectionEnd ?? start;
    const next = insertAt(value, start, end, `{{${name}}}`);
    caret.current = next.caret;
    onChange(next.text);
  };

  const preview = value ? renderTemplate(value, vars) : null;
  return (
    <div class="bots-template">
      <label for={`${id}-text`}>{label}</label>
      <textarea
        id={`${id}-text`}
        ref={area}
        rows={rows}
        value={value}
        placeholder={placeholder}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-preview`}
        onInput={(e) => onChange(e.currentTarget.value)}
      />
      <div class="bots-vars" role="toolbar" aria-label={`Insert a variable into ${label.toLowerCase()}`}>
        {VARIABLES.map((v) => (
          <button
            type="button"
            class="small ghost bots-var"
            key={v.name}
            title={`Insert {{${v.name}}}`}
            // Keep the textarea's selection: a mousedown on the button would otherwise blur it first.
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => insert(v.name)}
          >
            {`{{${v.name}}}`}
          </button>
        ))}
      </div>
      {error && <p class="error bots-field-error">{error}</p>}
      <div id={`${id}-preview`} class="bots-preview" aria-live="polite" data-testid={`${id}-preview`}>
        {preview && (
          <>
            <span class="bots-preview-label">Preview</span>
            <span class="bots-bubble">{preview.text || <em class="muted">(renders empty: the bot would hand over)</em>}</span>
            {preview.error && <span class="error">{preview.error}</span>}
          </>
        )}
      </div>
    </div>
  );
}
