import { useEffect, useState } from "preact/hooks";
import { ApiError, get } from "../../api/http";
import { QR_RENEW_MS, type Qr } from "./types";

/**
 * The pairing QR of a session waiting for a scan. WAHA renews it without an event, so it is
 * read again on WAHA's rhythm — only while this is mounted (the parent mounts it only in
 * SCAN_QR_CODE) and the tab is visible; unmounting stops the timer.
 */
export function QrCode({ session }: { session: string }) {
  const [qr, setQr] = useState<Qr | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let alive = true;
    const read = async () => {
      if (typeof document !== "undefined" && document.hidden) return;
      try {
        const q = await get<Qr>(`/api/sessions/${encodeURIComponent(session)}/qr`);
        if (!alive) return;
        setQr(q);
        setError(null);
      } catch (e) {
        // 409: WAHA is not (yet, or any more) waiting for a scan; the status event follows.
        if (alive) setError(e instanceof ApiError && e.status === 409 ? "Waiting for WhatsApp's code…" : (e as Error).message);
      }
    };
    void read();
    const timer = setInterval(() => void read(), QR_RENEW_MS);
    const onVisible = () => {
      if (!document.hidden) void read();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      alive = false;
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [session]);

  return (
    <figure class="sessions-qr" data-testid={`qr-${session}`}>
      {qr ? (
        <img src={`data:${qr.mimetype};base64,${qr.data}`} alt={`QR code to pair the session ${session}`} width={232} height={232} />
      ) : (
        <div class="sessions-qr-empty" aria-busy={!error}>
          {error ?? "Loading the code…"}
        </div>
      )}
      <figcaption>
        On the phone: WhatsApp → Settings → Linked devices → Link a device, then scan this code.
        {qr && error && <span class="error"> {error}</span>}
      </figcaption>
    </figure>
  );
}
