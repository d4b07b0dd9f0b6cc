import { useState } from "preact/hooks";
import { ApiError } from "../api/http";
import { navigate } from "../lib/router";
import { login, loginNotice } from "../state/session";

export function Login() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(email.trim(), password);
      navigate("/", { replace: true });
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401 ? "Wrong email or password." : (err as Error).message,
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="login">
      <form class="card login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">
          <span class="brand-mark" aria-hidden="true">✓✓</span> tickhub
        </h1>
        {loginNotice.value && (
          <p class="notice" role="status" data-testid="login-notice">
            {loginNotice.value}
          </p>
        )}
        <label>
          Email
          <input
            type="email"
            name="email"
            autocomplete="username"
            required
            autofocus
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            name="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
