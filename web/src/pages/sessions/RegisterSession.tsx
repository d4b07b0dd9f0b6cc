import { useState } from "preact/hooks";
import { post } from "../../api/http";
import type { SessionView } from "./types";

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Registers a WhatsApp session with the hub (admins); it starts, and asks for a scan. */
export function RegisterSession({ onCreated }: { onCreated: (s: SessionView) => void }) {
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="card sessions-register"
      aria-label="Register a session"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!NAME.test(name)) {
          setError("Letters, digits, '_' or '-', at most 64.");
          return;
        }
        setBusy(true);
        setError(null);
        try {
          onCreated(await post<SessionView>("/api/sessions", { name }));
          setName("");
        } catch (err) {
          setError((err as Error).message);
        } finally {
          setBusy(false);
        }
      }}
    >
      <label>
        New session
        <input
          name="name"
          value={name}
          placeholder="e.g. sales"
          autocomplete="off"
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "sessions-register-error" : undefined}
          onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
        />
      </label>
      <button type="submit" class="primary" disabled={busy || !name}>
        {busy ? "Registering…" : "Register"}
      </button>
      {error && (
        <p class="error" id="sessions-register-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
