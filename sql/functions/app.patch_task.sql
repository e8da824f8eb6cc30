-- PATCH /api/tasks/{id} in one statement: sets the columns `changes` names (title,
-- description, completed, priority, due_at with due_all_day, tags, position; a JSON null clears
-- a column that can be null) and keeps the others; `changes -> 'extra'`, the fields the API
-- does not model, is merged into the task's. expected_version and the
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
                          then (patch_task.changes ->> 'completed')::boolean else t.completed end,
         priority = case when patch_task.changes ? 'priority'
                         then (patch_task.changes ->> 'priority')::smallint else t.priority end,
         due_at = case when patch_task.changes ? 'due_at'
                       then (patch_task.changes ->> 'due_at')::timestamptz else t.due_at end,
         due_all_day = case when patch_task.changes ? 'due_at'
                            then coalesce((patch_task.changes ->> 'due_all_day')::boolean, false)
                            else t.due_all_day end,
         tags = case when patch_task.changes ? 'tags'
                     then array(select pg_catalog.jsonb_array_elements_text(
                                  patch_task.changes -> 'tags'))
                     else t.tags end,
         position = case when patch_task.changes ? 'position'
                         then (patch_task.changes ->> 'position')::integer else t.position end,
         extra = case when patch_task.changes ? 'extra'
                      then t.extra || (patch_task.changes -> 'extra') else t.extra end
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
