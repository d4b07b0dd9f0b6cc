// What describes a contact (the configured types and the declared attributes) and the
// sessions the viewer works in: read once per page, the short lists the forms choose from.

import { useEffect, useState } from "preact/hooks";
import { get, getAll, type Page } from "../../api/http";
import type { AttributeDef, ContactType } from "./types";

export interface Schema {
  types: ContactType[];
  attributes: AttributeDef[];
  sessions: string[];
  /** True once the lists arrived (or failed to: then `error`). */
  loaded: boolean;
  error: string | null;
}

/** `version`: a change of it reads the lists again (after the settings page changed them). */
export function useSchema(version = 0): Schema {
  const [s, setS] = useState<Schema>({ types: [], attributes: [], sessions: [], loaded: false, error: null });
  useEffect(() => {
    let alive = true;
    Promise.all([
      get<Page<ContactType>>("/api/contact-types"),
      get<Page<AttributeDef>>("/api/contact-attributes"),
      getAll<{ name: string }>("/api/sessions"),
    ])
      .then(([t, a, ss]) => {
        if (alive) setS({ types: t.items, attributes: a.items, sessions: ss.map((x) => x.name).sort(), loaded: true, error: null });
      })
      .catch((e) => alive && setS((o) => ({ ...o, loaded: true, error: (e as Error).message })));
    return () => {
      alive = false;
    };
  }, [version]);
  return s;
}
