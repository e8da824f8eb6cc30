-- PATCH /api/tasks/{id} in one statement: sets the fields `changes` names (title, description,
-- completed; a JSON null description clears it) and keeps the others. expected_version and the
-- answer (outcome 'done', 'stale' or 'missing', version, body) as in app.replace_task.
create or replace function app.patch_task(
  ctx app.request_context, task_id bigint, changes jsonb, expected_version integer,
  out outcome text, out version integer, out body text
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
                          then (patch_task.changes ->> 'completed')::boolean else t.completed end
   where t.id = patch_task.task_id
     and (patch_task.expected_version is null or t.version = patch_task.expected_version)
  returning 'done', t.version, t.public_json
       into patch_task.outcome, patch_task.version, patch_task.body;
  if not found then
    select 'stale', t.version into patch_task.outcome, patch_task.version
      from app.tasks as t
     where t.id = patch_task.task_id;
    if not found then
      patch_task.outcome := 'missing';
    end if;
  end if;
end
$$;

comment on function app.patch_task(app.request_context, bigint, jsonb, integer) is
  'PATCH /api/tasks/{id}: outcome done, stale or missing.';
grant execute on function app.patch_task(app.request_context, bigint, jsonb, integer) to public;
