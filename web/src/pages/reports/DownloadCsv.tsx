import { useState } from "preact/hooks";
import { getFile } from "../../api/http";

/** Saves a blob under `name` through a throwaway link. */
export function saveAs(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // After the click the browser holds the file; the address is no longer needed.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/**
 * The report as CSV, read like the page reads its JSON (signed in, errors as the hub words
 * them) and saved under a name that says which period it covers.
 */
export function DownloadCsv({ url, name }: { url: string; name: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      saveAs(await getFile(url), name);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="row">
      {error && (
        <span class="error" role="alert">
          {error}
        </span>
      )}
      <button type="button" class="small" disabled={busy} onClick={() => void go()} data-testid="download-csv" data-url={url}>
        {busy ? "Preparing…" : "Download CSV"}
      </button>
    </span>
  );
}
