-- PATCH /api/tasks/{id}/toggle in one statement: flips completed in the update itself, so two
-- toggles never read the same value. expected_version as in app.replace_task. Nulls when the
-- caller has no such task.
create or replace function app.toggle_task(
  ctx app.request_context, task_id bigint, expected_version integer,
  out version integer, out body text
)
language plpgsql volatile
as $$
begin
  perform app.begin_request(ctx);
  update app.tasks as t
     set completed = not t.completed,
         version = coalesce(toggle_task.expected_version, t.version)
   where t.id = toggle_task.task_id
  returning t.version, pg_catalog.to_json(app.task_public(t))::text
       into toggle_task.version, toggle_task.body;
end
$$;

comment on function app.toggle_task(app.request_context, bigint, integer) is
  'PATCH /api/tasks/{id}/toggle.';
grant execute on function app.toggle_task(app.request_context, bigint, integer) to public;
