/**
 * Values read from a provider's answer. An answer is JSON from another machine, so each value is checked for
 * its type before it is used: one of the wrong type is left out where the answer can do without it (a message,
 * a code, a request id) and makes the answer malformed where it cannot (a task status, a task id). Nothing here
 * looks inside a value of the wrong type, so nesting of any depth costs nothing.
 */
import { ProviderError } from '../../kernel/errors.js';
import type { ProviderInfo } from '../types.js';

/** The longest task id taken: the services' ids are UUIDs and numbers. */
const MAX_TASK_ID = 128;
const TASK_ID = /^[A-Za-z0-9._-]+$/;
/** Longest status word taken: the documented ones are a few capitals. */
const MAX_STATUS = 64;
/** How much of a provider's message, code or request id is kept. */
const MAX_TEXT = 500;
const MAX_CODE = 100;

/** What a task id is, for the messages that refuse one. */
export const TASK_ID_RULE = `1 to ${MAX_TASK_ID} letters, digits, '.', '_' or '-', and not '.' or '..'`;

/** The code of the error for a task the provider does not know, or no longer keeps. */
export const UNKNOWN_TASK = 'UNKNOWN';

/** A task the provider does not know: a failure (exit 1), whatever the provider's answer looked like. */
export function unknownTask(
  provider: ProviderInfo,
  taskId: string,
  answer: { message: string; status?: number; requestId?: string },
): ProviderError {
  const http = answer.status === undefined ? '' : ` HTTP ${answer.status}`;
  return new ProviderError('failure', `${provider.label}${http} ${UNKNOWN_TASK}: ${answer.message}`, {
    provider: provider.id,
    status: answer.status,
    code: UNKNOWN_TASK,
    requestId: answer.requestId,
    taskId,
    hint: `check the task id: ${provider.label} does not know task ${taskId}, or no longer keeps it`,
  });
}

/**
 * A task id that can go into a URL path and a suggested command as it is: no separator, no dot segment,
 * nothing a shell or a terminal would read.
 */
export function isTaskId(value: string): boolean {
  return value.length <= MAX_TASK_ID && TASK_ID.test(value) && value !== '.' && value !== '..';
}

/** A value from outside, for a message: a string quoted with its controls escaped and cut short, else its type. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A plain object, or undefined. */
export function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The plain objects of an array (a list of results); anything else in it, or a value that is no array, is none. */
export function asObjects(value: unknown): Record<string, unknown>[] {
  if (!Array.isArray(value)) return [];
  return value.map(asObject).filter((v): v is Record<string, unknown> => v !== undefined);
}

/** A string, cut to `max` characters; any other type is undefined. */
export function asText(value: unknown, max = MAX_TEXT): string | undefined {
  if (typeof value !== 'string') return undefined;
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

/** An error code: a string, or a finite number as a string (as ModelScope gives some); else undefined. */
export function asCode(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  return asText(value, MAX_CODE) || undefined;
}

interface AnswerDetails {
  requestId?: string;
  taskId?: string;
  hint?: string;
}

/** An answer without the documented shape: a task failure (so `edit` may still finish locally). */
function malformed(provider: ProviderInfo, what: string, details: AnswerDetails = {}): ProviderError {
  return new ProviderError('failure', `${provider.label} sent a malformed answer: ${what}`, {
    provider: provider.id,
    code: 'MalformedAnswer',
    requestId: details.requestId,
    taskId: details.taskId,
    hint:
      details.hint ??
      `the answer does not have ${provider.label}'s documented shape; check that the base URL is ${provider.label}'s`,
  });
}

/** A task's status: a short string, `absent` when there is none; any other value makes the answer malformed. */
export function statusOf(
  provider: ProviderInfo,
  value: unknown,
  field: string,
  absent: string,
  details: AnswerDetails,
): string {
  if (value === undefined || value === null) return absent;
  if (typeof value === 'string' && value.length > 0 && value.length <= MAX_STATUS) return value;
  const shown = typeof value === 'string' ? `a string of ${value.length} characters` : describeValue(value);
  throw malformed(provider, `${field} is ${shown}, not a task status`, details);
}

/**
 * The task id of a submit answer: a task id, or with `numbers` a non-negative integer (ModelScope gives some
 * so). Anything else is malformed; the service may have made the task all the same, and the error says so.
 */
export function submittedTaskId(
  provider: ProviderInfo,
  value: unknown,
  field: string,
  requestId: string | undefined,
  numbers = false,
): string {
  const id = numbers && typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : value;
  if (typeof id === 'string' && isTaskId(id)) return id;
  const look = requestId ? `look for request id ${requestId}` : 'look for it';
  throw malformed(provider, `${field} is ${describeValue(value)}, not a task id (${TASK_ID_RULE})`, {
    requestId,
    hint: `a task may have been created: ${look} in the ${provider.label} console before running this again`,
  });
}

/**
 * Refuses a task id that is not one, whoever gave it (an answer, a journal, the command line), before anything
 * is sent: `..` in a URL path would take the key to another endpoint.
 */
export function checkTaskId(provider: ProviderInfo, taskId: string): void {
  if (isTaskId(taskId)) return;
  throw new ProviderError('failure', `${provider.label}: ${describeValue(taskId)} is not a task id (${TASK_ID_RULE})`, {
    provider: provider.id,
    code: 'BadTaskId',
    hint: 'a task id comes from the error or the journal that named it; nothing was sent for this one',
  });
}

/** A task id as it goes into a URL path: checked, then encoded. */
export function taskIdPath(provider: ProviderInfo, taskId: string): string {
  checkTaskId(provider, taskId);
  return encodeURIComponent(taskId);
}
