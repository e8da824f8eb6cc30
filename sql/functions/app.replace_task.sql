-- PUT /api/tasks/{id} in one statement. expected_version, when given, must be the task's
-- version: app_private.tg_tasks__stamp_row refuses a stale one with PT409. Nulls when the caller
-- has no such task.
create or replace function app.replace_task(
  ctx app.request_context, task_id bigint, title text, description text, completed boolean,
  expected_version integer, out version integer, out body text
)
language plpgsql volatile
as $$
begin
  perform app.begin_request(ctx);
  update app.tasks as t
     set title = replace_task.title,
         description = replace_task.description,
         completed = replace_task.completed,
         version = coalesce(replace_task.expected_version, t.version)
   where t.id = replace_task.task_id
  returning t.version, pg_catalog.to_json(app.task_public(t))::text
       into replace_task.version, replace_task.body;
end
$$;

comment on function app.replace_task(app.request_context, bigint, text, text, boolean, integer) is
  'PUT /api/tasks/{id}.';
grant execute on function app.replace_task(app.request_context, bigint, text, text, boolean, integer)
  to public;
