// Drives the built client (dist/) against a running API at TODO_API_URL: tests/test_typescript_client.py
// starts `todo-api serve` on a fresh database, builds this package and runs `node --test`.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";

import { ApiError, TaskSync, createTodoClient } from "../dist/index.js";

const baseUrl = process.env.TODO_API_URL;
if (!baseUrl) throw new Error("TODO_API_URL is not set: run this through tests/test_typescript_client.py");

/** A new account, and a client whose token callback refreshes through /api/auth/refresh. */
async function signedUp() {
  const anonymous = createTodoClient({ baseUrl });
  const { data, response } = await anonymous.api.POST("/api/auth/signup", {
    body: { email: `${randomUUID()}@example.com`, password: "correct horse battery", name: "Node" },
  });
  assert.equal(response.status, 201);
  return { session: data, ...clientFor(data) };
}

function clientFor(session) {
  const state = { access: session.access_token, refresh: session.refresh_token, refreshes: 0 };
  const refresher = createTodoClient({ baseUrl });
  const client = createTodoClient({
    baseUrl,
    async token({ refresh }) {
      if (!refresh) return state.access;
      state.refreshes += 1;
      const { data } = await refresher.api.POST("/api/auth/refresh", {
        body: { refresh_token: state.refresh },
      });
      if (!data) return null;
      state.access = data.access_token;
      state.refresh = data.refresh_token;
      return state.access;
    },
  });
  return { client, state };
}

test("sign up, then create, list, change, toggle and delete a task", async () => {
  const { client, session } = await signedUp();
  const me = await client.api.GET("/api/auth/me");
  assert.equal(me.data.id, session.user.id);

  const created = await client.createTask({ title: "Buy milk", description: "2 litres" });
  assert.equal(created.version, 1);
  const listed = await client.listTasks();
  assert.deepEqual(listed.tasks, [created]);
  assert.equal(await client.listTasks(listed.etag), null); // 304: nothing changed

  const changed = await client.updateTask(created, { title: "Buy oat milk" });
  assert.equal(changed.version, 2);
  assert.equal(changed.title, "Buy oat milk");
  const toggled = await client.toggleTask(changed);
  assert.equal(toggled.completed, true);
  const relisted = await client.listTasks(listed.etag);
  assert.notEqual(relisted.etag, listed.etag);
  assert.deepEqual(relisted.tasks, [toggled]);

  await client.deleteTask(toggled);
  assert.deepEqual((await client.listTasks()).tasks, []);
});

test("a write from a stale version is refused with 412", async () => {
  const { client, session } = await signedUp();
  const other = clientFor(session).client;
  const task = await client.createTask({ title: "shared" });
  await other.updateTask(task, { completed: true });
  await assert.rejects(client.updateTask(task, { title: "mine" }), (error) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 412);
    assert.equal(error.detail, "Precondition failed: the task has changed");
    return true;
  });
  await assert.rejects(client.deleteTask(task), (error) => error.status === 412);
});

test("a 401 asks the token callback once more, then retries", async () => {
  const { session } = await signedUp();
  const { client, state } = clientFor(session);
  state.access = "not-a-token";
  const task = await client.createTask({ title: "after a refresh" });
  assert.equal(task.title, "after a refresh");
  assert.equal(state.refreshes, 1);
  state.refresh = "revoked";
  state.access = "not-a-token";
  await assert.rejects(client.listTasks(), (error) => error.status === 401);
  assert.equal(state.refreshes, 2); // once, not in a loop
});

test("a malformed cursor is a 400 the client reports", async () => {
  const { client } = await signedUp();
  await assert.rejects(client.changes("garbage"), (error) => {
    assert.equal(error.status, 400);
    assert.match(error.detail, /Malformed cursor/);
    return true;
  });
});

test("two clients of one user writing at once end in sync through the feed", async () => {
  const { session } = await signedUp();
  const devices = [clientFor(session).client, clientFor(session).client];
  const replicas = devices.map((client) => new TaskSync(client, { limit: 3 }));
  await Promise.all(replicas.map((replica) => replica.pull()));

  let seed = 13;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
  await Promise.all(
    devices.map(async (client, n) => {
      const replica = replicas[n];
      for (let step = 0; step < 25; step += 1) {
        const known = [...replica.tasks.values()];
        const pick = known[Math.floor(random() * known.length)];
        const roll = random();
        try {
          if (roll < 0.4 || pick === undefined) replica.apply(await client.createTask({ title: `t${step}` }));
          else if (roll < 0.6) replica.apply(await client.updateTask(pick, { title: `p${step}` }));
          else if (roll < 0.75) replica.apply(await client.toggleTask(pick));
          else if (roll < 0.85) (await client.deleteTask(pick), replica.forget(pick.id));
          else await replica.pull();
        } catch (error) {
          // The other device changed or deleted it first: 412 or 404, and the feed will tell.
          if (!(error instanceof ApiError) || ![404, 412].includes(error.status)) throw error;
        }
      }
    }),
  );
  for (const replica of replicas) await replica.pull();
  const listed = (await devices[0].listTasks()).tasks;
  const expected = new Map(listed.map((task) => [task.id, task]));
  assert.deepEqual(replicas[0].tasks, expected);
  assert.deepEqual(replicas[1].tasks, expected);
  assert.ok(expected.size > 3);
});
