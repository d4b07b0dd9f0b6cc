// The import wizard's CSV handling: the file read into records (each with the line it starts
// on, since a quoted cell may span lines), the preview, the column mapping, and the body the
// hub receives: a header row of the names it maps by (docs/segments.md, "Importing contacts")
// with the ignored columns left out, every record on the line it had, so the hub's row
// errors name the lines of the user's own file.

export interface CsvRecord {
  /** The line the record starts on (the header is line 1). */
  line: number;
  cells: string[];
}

/** RFC 4180 records; blank lines are not records. */
export function parseCsv(text: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  let line = 1;
  let i = 0;
  const n = text.charCodeAt(0) === 0xfeff ? ((i = 1), text.length) : text.length;
  while (i < n) {
    const start = line;
    const cells: string[] = [];
    let cell = "";
    let quoted = false;
    let any = false;
    for (; i < n; i++) {
      const ch = text[i];
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i++;
          } else quoted = false;
        } else {
          if (ch === "\n") line++;
          cell += ch;
        }
        continue;
      }
      if (ch === '"') {
        quoted = true;
        any = true;
      } else if (ch === ",") {
        cells.push(cell);
        cell = "";
        any = true;
      } else if (ch === "\r" && text[i + 1] === "\n") {
        continue;
      } else if (ch === "\n") {
        break;
      } else {
        cell += ch;
        any = true;
      }
    }
    i++; // past the newline
    line++;
    if (any || cell) {
      cells.push(cell);
      out.push({ line: start, cells });
    }
  }
  return out;
}

const quote = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** What the hub maps by: the fixed columns, or `attr.<name>` for a declared attribute. */
export const TARGETS = ["phone", "name", "email", "type", "tags", "notes", "lifetime_spend"];
/** The mapping of a column the import leaves out. */
export const IGNORE = "";

/** A column's target guessed from its header: its own name when the hub maps by it. */
export function guessTarget(header: string, attributes: string[]): string {
  const h = header.trim().toLowerCase().replace(/\s+/g, "_");
  if (TARGETS.includes(h)) return h;
  if (h === "tag") return "tags";
  if (h === "number" || h === "mobile" || h === "whatsapp") return "phone";
  const attr = h.startsWith("attr.") ? h.slice(5) : h;
  if (attributes.includes(attr)) return `attr.${attr}`;
  return IGNORE;
}

/** Problems with a mapping that the hub would refuse anyway, said before the upload. */
export function mappingProblems(mapping: string[]): string[] {
  const out: string[] = [];
  if (!mapping.includes("phone")) out.push("Map one column to phone: contacts are found by their number.");
  const seen = new Set<string>();
  for (const t of mapping) {
    if (t === IGNORE) continue;
    if (seen.has(t)) out.push(`Two columns map to ${t}.`);
    seen.add(t);
  }
  return out;
}

/**
 * The body to upload: the mapped header, then each record's mapped cells, each record on
 * its original line (blank lines where the file had blank lines or multi-line cells).
 */
export function mappedCsv(records: CsvRecord[], mapping: string[]): string {
  const keep = mapping.map((t, i) => (t === IGNORE ? -1 : i)).filter((i) => i >= 0);
  let out = keep.map((i) => quote(mapping[i])).join(",");
  // The line the last written text ends on.
  let line = 1 + (out.match(/\n/g)?.length ?? 0);
  for (const r of records.slice(1)) {
    out += "\n".repeat(Math.max(1, r.line - line));
    line = Math.max(line + 1, r.line);
    // One empty cell alone would read as a blank line, and a blank line is no record.
    const row = keep.length === 1 && !(r.cells[keep[0]] ?? "") ? '""' : keep.map((i) => quote(r.cells[i] ?? "")).join(",");
    out += row;
    line += row.match(/\n/g)?.length ?? 0;
  }
  return out + "\n";
}
