-- PATCH /api/tasks/{id}/toggle in one statement: flips completed in the update itself, so two
-- toggles never read the same value. expected_version and the answer (outcome 'done', 'stale'
-- or 'missing', version, body) as in app.replace_task.
create or replace function app.toggle_task(
  ctx app.request_context, task_id bigint, expected_version integer,
  out outcome text, out version integer, out body text
)
language plpgsql volatile
as $$
begin
  perform app.begin_request(ctx);
  update app.tasks as t
     set completed = not t.completed
   where t.id = toggle_task.task_id
     and (toggle_task.expected_version is null or t.version = toggle_task.expected_version)
  returning 'done', t.version, t.public_json
       into toggle_task.outcome, toggle_task.version, toggle_task.body;
  if not found then
    select 'stale', t.version into toggle_task.outcome, toggle_task.version
      from app.tasks as t
     where t.id = toggle_task.task_id;
    if not found then
      toggle_task.outcome := 'missing';
    end if;
  end if;
end
$$;

comment on function app.toggle_task(app.request_context, bigint, integer) is
  'PATCH /api/tasks/{id}/toggle: outcome done, stale or missing.';
grant execute on function app.toggle_task(app.request_context, bigint, integer) to public;
