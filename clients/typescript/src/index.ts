// The hand-written layer over the generated client (src/schema.ts, from ../../openapi.json by
// `npm run generate`): only what a generator cannot know. A bearer token from the application's
// own callback, asked again once when the API answers 401; If-Match from the version a task was
// read at; the list's ETag; the change feed as a local copy kept in sync
// (how-to/sync-a-frontend.md). Every call is otherwise openapi-fetch's, typed by the schema.
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths };
export type Task = components["schemas"]["TaskPublic"];
export type TaskCreate = components["schemas"]["TaskCreate"];
export type TaskPatch = components["schemas"]["TaskPatch"];
export type TaskChanges = components["schemas"]["TaskChanges"];
export type ErrorResponse = components["schemas"]["ErrorResponse"];

/** Answers the credential to send. `refresh` is true after a 401: return a new one (refresh
 * your session), or null to give up and let the 401 through. */
export type TokenSource = (options: { refresh: boolean }) => string | null | Promise<string | null>;

export interface TodoClientOptions {
  /** Where the API is, e.g. "https://api.example.com" (no trailing /api). */
  baseUrl: string;
  /** The bearer credential; without it, requests go unauthenticated (sign-up, sign-in). */
  token?: TokenSource;
  /** A fetch of your own (tests, a server runtime's); globalThis.fetch by default. */
  fetch?: (input: Request) => Promise<Response>;
}

/** An error answer of the API, with its status and `detail`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(typeof detail === "string" ? detail : `HTTP ${status}`);
    this.name = "ApiError";
  }
}

/** `"3"`: the ETag of a task at the version it was read at, for If-Match. */
export function ifMatch(task: Pick<Task, "version">): string {
  return `"${task.version}"`;
}

export interface TodoClient {
  /** The generated client, for any route as the schema types it. */
  api: Client<paths>;
  /** The caller's tasks; with the ETag of an earlier answer, null while nothing has changed. */
  listTasks(etag?: string | null): Promise<{ etag: string; tasks: Task[] } | null>;
  createTask(task: TaskCreate): Promise<Task>;
  /** Changes the fields given, if the task is still at `task.version` (else ApiError 412). */
  updateTask(task: Pick<Task, "id" | "version">, changes: TaskPatch): Promise<Task>;
  toggleTask(task: Pick<Task, "id" | "version">): Promise<Task>;
  /** Deletes the task, if it is still at `task.version` (else ApiError 412). */
  deleteTask(task: Pick<Task, "id" | "version">): Promise<void>;
  /** One page of the change feed after `cursor` (null: everything). */
  changes(cursor: string | null, limit?: number): Promise<TaskChanges>;
}

export function createTodoClient(options: TodoClientOptions): TodoClient {
  const send = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const token = options.token;

  async function authorized(request: Request, refresh: boolean): Promise<Response> {
    const credential = token ? await token({ refresh }) : null;
    if (credential) request.headers.set("Authorization", `Bearer ${credential}`);
    return send(request);
  }

  // Once through the callback again on a 401: the token may have expired in between.
  async function fetchWithToken(request: Request): Promise<Response> {
    const again = token ? request.clone() : null;
    const response = await authorized(request, false);
    if (response.status !== 401 || again === null) return response;
    const renewed = await token!({ refresh: true });
    if (!renewed) return response;
    again.headers.set("Authorization", `Bearer ${renewed}`);
    return send(again);
  }

  const api = createClient<paths>({ baseUrl: options.baseUrl, fetch: fetchWithToken });

  function fail(response: Response, error: unknown): never {
    const detail = (error as { detail?: unknown } | undefined)?.detail;
    throw new ApiError(response.status, detail ?? error);
  }

  return {
    api,

    async listTasks(etag) {
      const { data, error, response } = await api.GET("/api/tasks", {
        params: { header: etag ? { "If-None-Match": etag } : {} },
      });
      if (response.status === 304) return null;
      if (data === undefined) fail(response, error);
      // The whole list, as a service with TASK_LIST_SHAPE=object answers it too.
      const tasks = Array.isArray(data) ? data : data.tasks;
      return { etag: response.headers.get("ETag") ?? "", tasks };
    },

    async createTask(task) {
      const { data, error, response } = await api.POST("/api/tasks", { body: task });
      if (data === undefined) fail(response, error);
      return data;
    },

    async updateTask(task, changes) {
      const { data, error, response } = await api.PATCH("/api/tasks/{task_id}", {
        params: { path: { task_id: task.id }, header: { "If-Match": ifMatch(task) } },
        body: changes,
      });
      if (data === undefined) fail(response, error);
      return data;
    },

    async toggleTask(task) {
      const { data, error, response } = await api.PATCH("/api/tasks/{task_id}/toggle", {
        params: { path: { task_id: task.id }, header: { "If-Match": ifMatch(task) } },
      });
      if (data === undefined) fail(response, error);
      return data;
    },

    async deleteTask(task) {
      const { error, response } = await api.DELETE("/api/tasks/{task_id}", {
        params: { path: { task_id: task.id }, header: { "If-Match": ifMatch(task) } },
      });
      if (!response.ok) fail(response, error);
    },

    async changes(cursor, limit) {
      const query: { since?: string; limit?: number } = {};
      if (cursor !== null) query.since = cursor;
      if (limit !== undefined) query.limit = limit;
      const { data, error, response } = await api.GET("/api/tasks/changes", {
        params: { query },
      });
      if (data === undefined) fail(response, error);
      return data;
    },
  };
}

/** Keeps a local copy of the caller's tasks through the change feed. Merges by (id, version):
 * a task replaces the copy only with a higher version, so a write's own answer (`apply`) and
 * its echo in the feed agree whatever their order. On 410 (the cursor is too old) it starts
 * over from a full fetch and replaces the copy. */
export class TaskSync {
  tasks = new Map<number, Task>();
  cursor: string | null = null;

  constructor(
    private readonly client: TodoClient,
    private readonly options: { limit?: number; onChange?: (tasks: Map<number, Task>) => void } = {},
  ) {}

  /** Records the answer of a write this client made, before the feed brings it. */
  apply(task: Task): void {
    merge(this.tasks, task);
  }

  /** Records a deletion this client made. */
  forget(taskId: number): void {
    this.tasks.delete(taskId);
  }

  /** Pulls every page of changes since the cursor; true when anything changed. */
  async pull(): Promise<boolean> {
    let copy = this.cursor === null ? new Map<number, Task>() : this.tasks;
    let changed = this.cursor === null;
    for (;;) {
      let page: TaskChanges;
      try {
        page = await this.client.changes(this.cursor, this.options.limit);
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 410 || this.cursor === null) throw error;
        this.cursor = null; // resync in full, then replace the copy
        copy = new Map();
        changed = true;
        continue;
      }
      for (const task of page.tasks) changed = merge(copy, task) || changed;
      for (const id of page.deleted) changed = copy.delete(id) || changed;
      this.cursor = page.cursor;
      if (!page.has_more) break;
    }
    this.tasks = copy;
    if (changed) this.options.onChange?.(this.tasks);
    return changed;
  }

  /** Pulls every `intervalMs` until `signal` aborts. */
  async run(intervalMs: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.pull();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
  }
}

function merge(tasks: Map<number, Task>, task: Task): boolean {
  const known = tasks.get(task.id);
  if (known !== undefined && known.version >= task.version) return false;
  tasks.set(task.id, task);
  return true;
}
