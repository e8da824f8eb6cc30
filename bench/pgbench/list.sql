-- The list scenario's transaction as the API runs it for one of bench/seed.py's tokens (sub and
-- exp only: no jti, email or name, not a session, no user in the URL, so those are null):
-- api/routes/tasks.py LIST_TASKS, one statement that opens the request (role switch,
-- app.user_id) and renders the list, for a seeded normal user picked at random. The user count
-- comes from the command line; ids are formatted as seed.py makes them:
--   pgbench -n -M prepared -c 16 -j 2 -T 10 -D users=10000 -f bench/pgbench/list.sql URL
-- bench/run.py refuses to run when the statement below no longer matches the API's text.
\set n random(1, :users)
select * from app.list_tasks(row('bench-user-' || lpad(:n::text, 5, '0'), null, null, null, null, null, null)::app.request_context);
