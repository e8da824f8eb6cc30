-- GET /api/tasks/{id} in one statement: the task's version and its stored JSON
-- (app.tasks.public_json). Nulls when the caller has no such task.
create or replace function app.get_task(
  ctx app.request_context, task_id bigint, out version integer, out body text
)
language plpgsql volatile
as $$
begin
  perform app.begin_request(ctx);
  select t.version, t.public_json
    into get_task.version, get_task.body
    from app.tasks as t
   where t.id = get_task.task_id;
end
$$;

comment on function app.get_task(app.request_context, bigint) is 'GET /api/tasks/{id}.';
grant execute on function app.get_task(app.request_context, bigint) to public;
