import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { patch, post } from "../../api/http";
import type { Role, User } from "../../api/types";
import { fieldError, type FieldError } from "../../api/fieldErrors";
import { HoursEditor } from "../../components/hours/HoursEditor";
import { fieldErrors, type FieldErrors } from "./fieldErrors";
import { assignableRoles } from "./roles";
import type { Member, MemberBody } from "./types";

const FIELDS = ["name", "email", "role", "password", "sessions", "capacity", "skills", "working_hours"];

interface Props {
  viewer: User;
  /** The sessions the viewer works in: the only ones they may grant. */
  sessionNames: string[];
  /** Absent: a new member. */
  member?: Member;
  onSaved: (m: Member) => void;
  onCancel: () => void;
}

function Field({ name, error, children }: { name: string; error?: string; children: ComponentChildren }) {
  return (
    <div class={`team-field ${error ? "team-field-error" : ""}`} data-field={name}>
      {children}
      {error && (
        <p class="error" id={`team-err-${name}`} role="alert" data-testid={`error-${name}`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** Creates or edits a member; the hub's refusal is shown next to the field it names. */
export function MemberForm({ viewer, sessionNames, member, onSaved, onCancel }: Props) {
  const editingSelf = member?.id === viewer.id;
  const roles = assignableRoles(viewer.role);
  const [v, setV] = useState<MemberBody>(() => ({
    email: member?.email ?? "",
    name: member?.name ?? "",
    role: member?.role ?? (roles.includes("agent") ? "agent" : roles[0]),
    password: "",
    sessions: member?.sessions ?? [],
    skills: member?.skills ?? [],
    capacity: member?.capacity ?? null,
    working_hours: member?.working_hours ?? null,
  }));
  const [skillsText, setSkillsText] = useState((member?.skills ?? []).join(", "));
  const [errors, setErrors] = useState<FieldErrors>({});
  // The hours editor places its errors by their whole path (`working_hours.holidays[1]`).
  const [refusal, setRefusal] = useState<FieldError | null>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof MemberBody>(k: K, x: MemberBody[K]) => setV((o) => ({ ...o, [k]: x }));
  const invalid = (f: string) =>
    errors[f] ? { "aria-invalid": true, "aria-describedby": `team-err-${f}` } : {};
  // Sessions the member works in that the viewer does not: kept by the hub, shown, not editable.
  const foreign = v.sessions.filter((s) => !sessionNames.includes(s));

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setRefusal(null);
    const body: Partial<MemberBody> = {
      ...v,
      sessions: v.sessions.filter((s) => sessionNames.includes(s)),
      skills: skillsText
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    };
    if (member) {
      delete body.password;
      if (editingSelf || body.role === member.role) delete body.role;
    }
    try {
      onSaved(member ? await patch<Member>(`/api/team-members/${member.id}`, body) : await post<Member>("/api/team-members", body));
    } catch (err) {
      setErrors(fieldErrors(err, FIELDS));
      setRefusal(fieldError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card team-form" onSubmit={submit} aria-label={member ? `Edit ${member.name}` : "New member"} noValidate>
      <h2>{member ? `Edit ${member.name}` : "New member"}</h2>
      <div class="team-form-grid">
        <Field name="name" error={errors.name}>
          <label>
            Name
            <input name="name" value={v.name} required onInput={(e) => set("name", e.currentTarget.value)} {...invalid("name")} />
          </label>
        </Field>
        <Field name="email" error={errors.email}>
          <label>
            Email
            <input
              name="email"
              type="email"
              value={v.email}
              required
              onInput={(e) => set("email", e.currentTarget.value)}
              {...invalid("email")}
            />
          </label>
        </Field>
        <Field name="role" error={errors.role}>
          <label>
            Role
            <select
              name="role"
              value={v.role}
              disabled={editingSelf}
              title={editingSelf ? "Nobody changes their own role" : undefined}
              onChange={(e) => set("role", e.currentTarget.value as Role)}
              {...invalid("role")}
            >
              {(editingSelf ? [v.role] : roles).map((r) => (
                <option value={r}>{r}</option>
              ))}
            </select>
          </label>
        </Field>
        {!member && (
          <Field name="password" error={errors.password}>
            <label>
              Password
              <input
                name="password"
                type="password"
                autocomplete="new-password"
                value={v.password}
                required
                onInput={(e) => set("password", e.currentTarget.value)}
                {...invalid("password")}
              />
            </label>
            <span class="muted team-hint">At least 10 characters, mixing two of letters, digits and others.</span>
          </Field>
        )}
        <Field name="capacity" error={errors.capacity}>
          <label>
            Capacity
            <input
              name="capacity"
              type="number"
              min={0}
              max={10000}
              placeholder="no limit"
              value={v.capacity ?? ""}
              onInput={(e) => {
                const t = e.currentTarget.value;
                set("capacity", t === "" ? null : Number(t));
              }}
              {...invalid("capacity")}
            />
          </label>
        </Field>
        <Field name="skills" error={errors.skills}>
          <label>
            Skills
            <input
              name="skills"
              value={skillsText}
              placeholder="billing, spanish"
              onInput={(e) => setSkillsText(e.currentTarget.value)}
              {...invalid("skills")}
            />
          </label>
        </Field>
      </div>
      <Field name="sessions" error={errors.sessions}>
        <fieldset class="team-sessions" {...invalid("sessions")}>
          <legend>Sessions</legend>
          {v.role === "admin" && <span class="muted">Admins work in every session.</span>}
          {sessionNames.map((s) => (
            <label class="inline">
              <input
                type="checkbox"
                checked={v.sessions.includes(s)}
                onChange={(e) =>
                  set("sessions", e.currentTarget.checked ? [...v.sessions, s] : v.sessions.filter((x) => x !== s))
                }
              />
              {s}
            </label>
          ))}
          {foreign.map((s) => (
            <span class="chip" title="A session you do not work in: kept as it is">
              {s}
            </span>
          ))}
        </fieldset>
      </Field>
      <HoursEditor
        field="working_hours"
        legend="Working hours"
        toggle="Works set hours (routing skips them outside these)"
        value={v.working_hours}
        onChange={(h) => set("working_hours", h)}
        error={refusal}
      />
      {errors._form && (
        <p class="error" role="alert" data-testid="error-form">
          {errors._form}
        </p>
      )}
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Saving…" : member ? "Save" : "Create member"}
        </button>
        <button type="button" class="ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
