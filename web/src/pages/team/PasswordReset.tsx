import { useState } from "preact/hooks";
import { post } from "../../api/http";
import { fieldErrors } from "./fieldErrors";
import type { Member } from "./types";

/** A supervisor sets a member's new password; the member's sessions end. */
export function PasswordReset({ member, onDone }: { member: Member; onDone: (msg: string | null) => void }) {
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="row team-reset"
      aria-label={`New password for ${member.name}`}
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          await post(`/api/team-members/${member.id}/password`, { password });
          onDone(`${member.name}'s password was reset; they are signed out everywhere.`);
        } catch (err) {
          const f = fieldErrors(err, ["password"]);
          setError(f.password ?? f._form ?? "The password was not changed.");
        } finally {
          setBusy(false);
        }
      }}
    >
      <label>
        New password for {member.name}
        <input
          type="password"
          autocomplete="new-password"
          value={password}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `team-reset-err-${member.id}` : undefined}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </label>
      <button type="submit" class="primary small" disabled={busy || !password}>
        Set password
      </button>
      <button type="button" class="ghost small" onClick={() => onDone(null)}>
        Cancel
      </button>
      {error && (
        <p class="error" role="alert" id={`team-reset-err-${member.id}`}>
          {error}
        </p>
      )}
    </form>
  );
}
