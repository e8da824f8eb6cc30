-- PUT /api/tasks/{id} in one statement. Optimistic locking is the update's WHERE clause: with
-- expected_version given, only a task still at that version is written (null: any version).
-- One row, (outcome, version, body):
--   'done'     written; the task's new version and JSON;
--   'stale'    the caller has the task but it is not at expected_version; nothing was written,
--              version is the task's current one, body null;
--   'missing'  the caller has no such task (someone else's, or none); version and body null.
-- The request functions that write (app.replace_task, app.patch_task, app.toggle_task,
-- app.delete_task) all answer this way. Under READ COMMITTED a writer that waited on another's
-- row lock re-checks the WHERE clause against the row the other committed, so of two writers
-- holding one version exactly one is 'done'; the follow-up read is a statement of its own,
-- with a fresh snapshot, so 'stale' reports the version that beat the caller.
-- Every field is set, `extra` included: the fields a PUT leaves out take their defaults.
create or replace function app.replace_task(
  ctx app.request_context, task_id bigint, title text, description text, completed boolean,
  priority smallint, due_at timestamptz, due_all_day boolean, tags text[], "position" integer,
  extra jsonb, expected_version integer, out outcome text, out version integer, out body text
)
language plpgsql volatile
as $$
begin
  perform app.begin_request(ctx);
  update app.tasks as t
     set title = replace_task.title,
         description = replace_task.description,
         completed = replace_task.completed,
         priority = replace_task.priority,
         due_at = replace_task.due_at,
         due_all_day = replace_task.due_all_day,
         tags = replace_task.tags,
         position = replace_task."position",
         extra = replace_task.extra
   where t.id = replace_task.task_id
     and (replace_task.expected_version is null or t.version = replace_task.expected_version)
  returning 'done', t.version, t.public_json
       into replace_task.outcome, replace_task.version, replace_task.body;
  if not found then
    select 'stale', t.version into replace_task.outcome, replace_task.version
      from app.tasks as t
     where t.id = replace_task.task_id;
    if not found then
      replace_task.outcome := 'missing';
    end if;
  end if;
end
$$;

comment on function app.replace_task(
  app.request_context, bigint, text, text, boolean, smallint, timestamptz, boolean, text[],
  integer, jsonb, integer
) is 'PUT /api/tasks/{id}: outcome done, stale or missing.';
grant execute on function app.replace_task(
  app.request_context, bigint, text, text, boolean, smallint, timestamptz, boolean, text[],
  integer, jsonb, integer
) to public;
