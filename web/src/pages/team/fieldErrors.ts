import { ApiError } from "../../api/http";
import { reasonOf } from "../../api/fieldErrors";

export type FieldErrors = Record<string, string> & { _form?: string };

/**
 * A 422 (or a 409 about one value, like a taken email) carries its field's path in
 * `error.field` (`email`, `sessions[1]`, `working_hours.weekly.mon[0]`): the reason goes next
 * to the form field the path starts with, anything else to the form.
 */
export function fieldErrors(e: unknown, fields: string[]): FieldErrors {
  if (!(e instanceof ApiError)) return { _form: (e as Error)?.message ?? String(e) };
  const top = e.field?.split(/[.[]/)[0];
  if (e.field && top && fields.includes(top)) return { [top]: reasonOf(e.message, e.field) };
  return { _form: e.message };
}
