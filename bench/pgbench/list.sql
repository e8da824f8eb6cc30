-- The list scenario's transaction as the API runs it for one of bench/seed.py's tokens (sub and
-- exp only: no jti, email or name, not a session, so those arguments are null): api/db.py
-- REQUEST_CONTEXT, then api/routes/tasks.py LIST_TASKS, for a seeded normal user picked at
-- random. The user count comes from the command line; ids are formatted as seed.py makes them:
--   pgbench -n -M prepared -c 16 -j 2 -T 10 -D users=10000 -f bench/pgbench/list.sql URL
-- bench/run.py refuses to run when either statement below no longer matches the API's text.
\set n random(1, :users)
begin;
select app.begin_request('bench-user-' || lpad(:n::text, 5, '0'), null, null, null, null, null);
select coalesce(json_agg(app.task_json(t) order by t.id), '[]')::text
  from app.tasks as t;
commit;
