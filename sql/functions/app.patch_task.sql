-- PATCH /api/tasks/{id} in one statement: sets the fields `changes` names (title, description,
-- completed; a JSON null description clears it) and keeps the others. expected_version as in
-- app.replace_task. Nulls when the caller has no such task.
create or replace function app.patch_task(
  ctx app.request_context, task_id bigint, changes jsonb, expected_version integer,
  out version integer, out body text
)
language plpgsql volatile
as $$
begin
  perform app.begin_request(ctx);
  update app.tasks as t
     set title = case when patch_task.changes ? 'title'
                      then patch_task.changes ->> 'title' else t.title end,
         description = case when patch_task.changes ? 'description'
                            then patch_task.changes ->> 'description' else t.description end,
         completed = case when patch_task.changes ? 'completed'
                          then (patch_task.changes ->> 'completed')::boolean else t.completed end,
         version = coalesce(patch_task.expected_version, t.version)
   where t.id = patch_task.task_id
  returning t.version, pg_catalog.to_json(app.task_public(t))::text
       into patch_task.version, patch_task.body;
end
$$;

comment on function app.patch_task(app.request_context, bigint, jsonb, integer) is
  'PATCH /api/tasks/{id}.';
grant execute on function app.patch_task(app.request_context, bigint, jsonb, integer) to public;
