import type { ChecklistCache } from '../checklist/cache.js';
import { checklistFileByName, listChecklistNames, loadChecklistFile } from '../checklist/load.js';
import type { Checklist } from '../checklist/model.js';
import { DeployCheckError, describeError, ErrorCode, isCoded } from '../errors.js';

/** A checklist in the checklists directory, as far as `rollback <service|checklist>` cares. */
export interface KnownChecklist {
  name: string;
  file: string;
  checklist?: Checklist;
  /** Why it does not load (shown when it is asked for by name). */
  error?: string;
}

function known(name: string, dir: string, cache: ChecklistCache): KnownChecklist {
  const file = checklistFileByName(name, dir);
  try {
    return { name, file, checklist: cache.load(file) };
  } catch (err) {
    return { name, file, error: isCoded(err) ? err.message.split('\n')[0]! : describeError(err) };
  }
}

/** Every checklist in the directory, each parsed with its default variables (a broken one keeps its error). */
export function scanChecklists(dir: string, cache: ChecklistCache): KnownChecklist[] {
  return listChecklistNames(dir).map((name) => known(name, dir, cache));
}

function knownList(list: readonly KnownChecklist[]): string {
  const services = [...new Set(list.flatMap((k) => (k.checklist ? [k.checklist.spec.service] : [])))].sort();
  const names = list.map((k) => k.name);
  return `services: ${services.length ? services.join(', ') : '(none)'}; checklists: ${names.length ? names.join(', ') : '(none)'}`;
}

/**
 * The checklist whose playbook `rollback <target>` runs: a checklist named so, else the one
 * checklist of that service (or the one of its checklists that has a `rollback:` section).
 * Throws a NotFound / Usage error whose message lists what is known. Parsed through `cache` (a big
 * checklist takes a few hundred ms to parse, and the modal must open within Slack's 3 s).
 */
export function resolveRollbackTarget(
  target: string,
  dir: string,
  cache: ChecklistCache,
): { name: string; checklist: Checklist } {
  // A file of that name is the common case: parse only that one.
  const named = listChecklistNames(dir).includes(target) ? known(target, dir, cache) : undefined;
  const all = named ? [named] : scanChecklists(dir, cache);
  const byName = all.find((k) => k.name === target) ?? all.find((k) => k.checklist?.spec.name === target);
  if (byName) {
    if (!byName.checklist)
      throw new DeployCheckError(
        ErrorCode.ChecklistInvalid,
        `checklist "${target}" does not load: ${byName.error}`,
      );
    return withPlaybook(byName.name, byName.checklist);
  }
  const ofService = all.filter((k) => k.checklist?.spec.service === target);
  if (ofService.length === 0)
    throw new DeployCheckError(
      ErrorCode.NotFound,
      `no service or checklist "${target}" to roll back; ${knownList(all)}`,
    );
  const withRollback = ofService.filter((k) => k.checklist?.spec.rollback);
  const pick =
    withRollback.length === 1 ? withRollback[0]! : ofService.length === 1 ? ofService[0]! : undefined;
  if (!pick)
    throw new DeployCheckError(
      ErrorCode.Usage,
      `service "${target}" has several checklists${withRollback.length ? ' with a rollback playbook' : ''}: ${(withRollback.length ? withRollback : ofService).map((k) => k.name).join(', ')}; name the checklist instead`,
    );
  return withPlaybook(pick.name, pick.checklist!);
}

function withPlaybook(name: string, checklist: Checklist): { name: string; checklist: Checklist } {
  if (!checklist.spec.rollback)
    throw new DeployCheckError(
      ErrorCode.NotFound,
      `checklist "${name}" (service ${checklist.spec.service}) has no rollback playbook: add a \`rollback:\` section with \`allowed\` and \`steps\``,
    );
  return { name, checklist };
}

/**
 * The playbook with a target run's variables (those the checklist still declares), so a
 * rollback of a run reaches the same hosts the run checked.
 */
export function withRunVars(checklist: Checklist, vars: Record<string, string> | undefined): Checklist {
  if (!vars) return checklist;
  const declared = Object.keys(checklist.spec.vars);
  const kept = Object.fromEntries(Object.entries(vars).filter(([k]) => declared.includes(k)));
  if (Object.keys(kept).length === 0) return checklist;
  return loadChecklistFile(checklist.file, kept);
}
