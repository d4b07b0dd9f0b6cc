import type { Role } from "../../api/types";
import type { Member } from "./types";

export const ROLES: Role[] = ["admin", "manager", "agent", "sales", "marketing"];

/** The roles `viewer` may give (docs/permissions.md "The team"): managers only below themselves. */
export const assignableRoles = (viewer: Role): Role[] =>
  viewer === "admin" ? ROLES : viewer === "manager" ? ["agent", "sales", "marketing"] : [];

/** Whether `viewer` may edit, deactivate or reset the password of `m`. */
export const mayManage = (viewer: { id: number; role: Role }, m: Member) =>
  viewer.role === "admin" || (viewer.role === "manager" && assignableRoles("manager").includes(m.role));
