import type { Role, User } from '../services/types';

export const ROLES: Role[] = ['owner', 'admin', 'member', 'viewer'];

export const canManage = (role: Role | undefined) => role === 'owner' || role === 'admin';

/** Only an owner hands out owner or admin; an admin may invite and assign member and viewer. */
export function assignableRoles(actor: Role | undefined): Role[] {
  if (actor === 'owner') return ROLES;
  if (actor === 'admin') return ['member', 'viewer'];
  return [];
}

/** Whether `actor` may change or remove `member` (never themselves; admins never touch owners or admins). */
export function canActOn(actor: User | undefined, member: User): boolean {
  if (!actor || actor.id === member.id || !canManage(actor.role)) return false;
  return actor.role === 'owner' || assignableRoles(actor.role).includes(member.role);
}
