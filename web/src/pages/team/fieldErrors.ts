import { ApiError } from "../../api/http";

export type FieldErrors = Record<string, string> & { _form?: string };

/**
 * The hub's 4xx messages name the field first ("email: …", "sessions[1]: unknown session",
 * "working_hours.weekly.mon[0]: …"): the message goes next to that field, the rest to the form.
 */
export function fieldErrors(e: unknown, fields: string[]): FieldErrors {
  if (!(e instanceof ApiError)) return { _form: (e as Error)?.message ?? String(e) };
  const m = /^([a-z_]+)(?:[.[][^:]*)?:\s*([\s\S]+)$/.exec(e.message);
  if (m && fields.includes(m[1])) return { [m[1]]: m[2] };
  // A 409 on a taken address does not start with the field, but is about it.
  if (e.status === 409 && /e-?mail/i.test(e.message) && fields.includes("email")) return { email: e.message };
  return { _form: e.message };
}
