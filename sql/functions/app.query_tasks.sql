-- GET /api/tasks with a query (api/routes/task_lists.py) in one statement: the caller's tasks
-- that match `query`'s filters, in its order, one page of them. `query` is a JSON object:
--   completed   true or false;                priority  1 to 3, or 0 for none;
--   nothing     true: filters that contradict each other, which no task meets;
--   tag         a tag the task has;           q         words in the title or description,
--   due_after, due_before  ISO moments (at or after; before);                in any case;
--   sort        created, updated, due_date, priority, title or position; descending  boolean;
--   after       [key, id] of the row before this page (keyset); limit, offset; count  boolean.
-- Answers the page as a JSON array of the tasks' stored JSON, the number of tasks in it, the
-- number of matching tasks (when `count`), and [key, id] of the page's last row when more follow (the next cursor).
--
-- Rows are ordered by the sort key, then by id, both ascending or both descending; a key that
-- can be null sorts as its nulls-last value, as the indexes of 0008_add_task_fields do, so the
-- keyset comparison (key, id) > (after) reads one index range. Only the clauses the query asks
-- for are in the statement (dynamic SQL over constants; every value is a parameter), so each
-- is planned for what it asks. Runs as app_user under row-level security, like every request
-- function (app.list_tasks).
create or replace function app.query_tasks(
  ctx app.request_context, query jsonb, out body text, out size bigint, out total bigint,
  out next_after jsonb
)
language plpgsql volatile
as $$
declare
  key_expression text := case query ->> 'sort'
    when 'updated' then 't.updated_at'
    when 'due_date' then 'coalesce(t.due_at, ''infinity'')'
    when 'priority' then 'coalesce(t.priority, 0)'
    when 'title' then 't.title'
    when 'position' then 't.position'
    else 't.id' end;
  key_type text := case query ->> 'sort'
    when 'updated' then 'timestamptz'
    when 'due_date' then 'timestamptz'
    when 'priority' then 'smallint'
    when 'title' then 'text'
    when 'position' then 'integer'
    else 'bigint' end;
  direction text := case when (query ->> 'descending')::boolean then 'desc' else 'asc' end;
  conditions text := '';
  page_size bigint := coalesce((query ->> 'limit')::bigint, 9223372036854775806);
  -- q's words as an ILIKE pattern in which % and _ are themselves (null without q).
  pattern text := '%' || pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
                    query ->> 'q', '\', '\\'), '%', '\%'), '_', '\_') || '%';
begin
  perform app.begin_request(ctx);
  if query ? 'nothing' then  -- filters no task can meet (completed=true&status=pending)
    conditions := conditions || ' and false';
  end if;
  if query ? 'completed' then
    conditions := conditions || ' and t.completed = ($1 ->> ''completed'')::boolean';
  end if;
  if query ? 'priority' then
    conditions := conditions || ' and coalesce(t.priority, 0) = ($1 ->> ''priority'')::smallint';
  end if;
  if query ? 'tag' then
    conditions := conditions || ' and t.tags @> array[$1 ->> ''tag'']';
  end if;
  if query ? 'due_after' then
    conditions := conditions || ' and t.due_at >= ($1 ->> ''due_after'')::timestamptz';
  end if;
  if query ? 'due_before' then
    conditions := conditions || ' and t.due_at < ($1 ->> ''due_before'')::timestamptz';
  end if;
  if query ? 'q' then
    conditions := conditions || ' and (t.title ilike $2 or t.description ilike $2)';
  end if;
  if query ? 'count' then
    execute 'select pg_catalog.count(*) from app.tasks as t where true' || conditions
       into query_tasks.total
      using query, pattern;
  end if;
  if query ? 'after' then
    conditions := conditions || pg_catalog.format(
      ' and (%s, t.id) %s (($1 -> ''after'' ->> 0)::%s, ($1 -> ''after'' ->> 1)::bigint)',
      key_expression, case direction when 'asc' then '>' else '<' end, key_type);
  end if;
  execute pg_catalog.format(
    $sql$
    with page as (
      select t.public_json, %1$s as sort_key, t.id
        from app.tasks as t
       where true %3$s
       order by %1$s %2$s, t.id %2$s
       limit $3 + 1 offset $4
    ), numbered as (
      select page.public_json, pg_catalog.to_json(page.sort_key) #>> '{}' as key, page.id,
             pg_catalog.row_number() over (order by page.sort_key %2$s, page.id %2$s) as n
        from page
    )
    select '[' || coalesce((select pg_catalog.string_agg(numbered.public_json, ','
                                                         order by numbered.n)
                              from numbered where numbered.n <= $3), '') || ']',
           (select pg_catalog.count(*) from numbered where numbered.n <= $3),
           (select pg_catalog.jsonb_build_array(last.key, last.id)
              from numbered as last
             where last.n = $3 and exists (select from numbered where numbered.n > $3))
    $sql$, key_expression, direction, conditions)
     into query_tasks.body, query_tasks.size, query_tasks.next_after
    using query, pattern, page_size, coalesce((query ->> 'offset')::bigint, 0);
end
$$;

comment on function app.query_tasks(app.request_context, jsonb) is
  'GET /api/tasks with filters, an order or a page: the page as JSON, a count, the next key.';
grant execute on function app.query_tasks(app.request_context, jsonb) to public;
